"""edgegrid stream from a real Mosquitto broker (started here on a free
port with a generated config, fed by mosquitto_pub): JSON payloads with
bad ones among them, keys from a topic level with a + filter, CSV
payloads under #, and the persistent session: what is published while the
box is away is delivered when it comes back under the same --name."""

import json
import signal
import time

import numpy as np

import cliutil as cu
import streamutil as su

suite = cu.Suite()


def sub(ps, broker, filt, *args):
    p = ps.start(["stream", "--from", "mqtt://127.0.0.1:%d/%s" % (
        broker.port, filt)] + list(args), stdin=False)
    return p


def ready(broker, p, topic, probe):
    """Publishes probe messages until the box has one (its subscription is
    then in place); returns how many reached it. That is not how many were
    published: those sent before the subscription took hold are lost, and
    one sent just after may arrive after the next was sent."""
    for _ in range(100):
        broker.publish(topic, [probe])
        try:
            p.wait_err("bad record 1:", 0.1)
            break
        except AssertionError:
            pass
    else:
        raise AssertionError("the box never subscribed: %r" % p.err)
    time.sleep(0.5)  # a probe still on its way lands before we count
    with p.cond:
        got = sum("stream: bad record" in l for l in p.err)
    assert 0 < got < 5, ("the box shows only its first 5 bad records", p.err)
    return got


@suite.test
def json_payloads_keyed_by_topic(tmp):
    if not su.have_mosquitto():
        raise AssertionError("mosquitto and mosquitto_pub are needed "
                             "(ci/setup installs them)")
    rng = np.random.default_rng(7)
    with su.Broker(tmp) as broker, su.Procs() as ps:
        p = sub(ps, broker, "sensors/+/temp", "--format", "json", "--fields",
                "v,w", "--window", "200", "--key", "topic:2", "--name",
                "box-a", "--ops", "count,sum,min,max")
        probes = ready(broker, p, "sensors/probe/temp", "not json")
        data = {}
        for k in ("k1", "k2"):
            x = rng.normal(20, 5, size=(400, 2))
            data[k] = x
            msgs = [json.dumps({"v": float(a), "w": float(b)}) for a, b in x]
            msgs.insert(100, '{"v": 1}')          # w missing: bad
            msgs.insert(300, '{"v": "hot", "w": 2}')
            broker.publish("sensors/%s/temp" % k, msgs)
        broker.publish("other/k1/temp", ['{"v": 1, "w": 1}'])  # not ours
        w = p.wait_for(lambda w: len(w) == 4, 15, "four windows")
        assert p.finish(sig=signal.SIGTERM) == 0
        tot = p.totals()
    assert tot["bad"] == 4 + probes, tot
    assert tot["records"] == 800, tot
    for line in w:
        k = line["key"]
        i = [l for l in w if l["key"] == k].index(line)
        x = data[k][i * 200:(i + 1) * 200]
        assert line["count"] == 200
        for c in range(2):
            cu.near_abs(line["results"]["sum"][c], cu.fsum_exact(x[:, c]),
                        cu.FAST_BOUND * float(np.abs(x[:, c]).sum()), k)
            cu.same(line["results"]["min"][c], float(x[:, c].min()), k)
            cu.same(line["results"]["max"][c], float(x[:, c].max()), k)
        assert line["box"] == "box-a"


@suite.test
def persistent_session_delivers_while_away(tmp):
    if not su.have_mosquitto():
        raise AssertionError("mosquitto and mosquitto_pub are needed")
    with su.Broker(tmp) as broker, su.Procs() as ps:
        args = ["--format", "csv", "--window", "50", "--ops", "count,sum",
                "--name", "box-p"]
        p = sub(ps, broker, "plant/#", *args)
        ready(broker, p, "plant/probe", "x")
        broker.publish("plant/a", ["%d" % i for i in range(100)])
        p.wait_for(lambda w: len(w) == 2, 10, "before leaving")
        assert p.finish(sig=signal.SIGTERM) == 0
        # published at QoS 1 while the box is away: the broker keeps them
        # for its session
        broker.publish("plant/b/c", ["%d" % i for i in range(100, 150)])
        p2 = sub(ps, broker, "plant/#", *args)
        w = p2.wait_for(lambda w: len(w) == 1, 10, "after returning")
        assert w[0]["count"] == 50
        assert w[0]["results"]["sum"][0] == sum(range(100, 150))
        assert p2.finish(sig=signal.SIGTERM) == 0


@suite.test
def broker_restart_reconnects(tmp):
    """A broker that goes away and comes back: the box reconnects,
    subscribes again and goes on (windows meanwhile close by the clock)."""
    if not su.have_mosquitto():
        raise AssertionError("mosquitto and mosquitto_pub are needed")
    broker = su.Broker(tmp)
    try:
        with su.Procs() as ps:
            p = sub(ps, broker, "r/#", "--format", "csv", "--window", "20",
                    "--ops", "count,sum", "--name", "box-r")
            ready(broker, p, "r/probe", "x")
            broker.publish("r/a", ["%d" % i for i in range(20)])
            p.wait_for(lambda w: len(w) == 1, 10, "before the restart")
            broker.close()
            time.sleep(1.0)
            broker = su.Broker(tmp, port=broker.port)
            deadline = time.monotonic() + 15
            while True:
                # the new broker has no session: publish until one arrives
                broker.publish("r/a", ["x"])
                try:
                    p.wait_err("bad record 2:", 0.3)
                    break
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise
            broker.publish("r/a", ["%d" % i for i in range(20, 40)])
            w = p.wait_for(lambda w: len(w) == 2, 10, "after the restart")
            assert w[1]["results"]["sum"][0] == sum(range(20, 40))
            assert p.finish(sig=signal.SIGTERM) == 0
            assert p.totals().get("reconnects", 0) >= 1, p.totals()
    finally:
        broker.close()


if __name__ == "__main__":
    suite.main()
