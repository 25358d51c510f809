/* finisher.c - see finisher.h. */
#include "finisher.h"

static void *finisher_main(void *p)
{
    eg_finisher *f = p;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (f->queued == 0 && !f->quit)
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->queued == 0)
            break; /* quit, and nothing left */
        unsigned set = f->queue[f->head];
        pthread_mutex_unlock(&f->lock);
        f->fn(f->arg, set);
        pthread_mutex_lock(&f->lock);
        f->head = (f->head + 1) % EG_FINISH_SETS;
        f->queued--;
        f->busy[set] = 0;
        pthread_cond_broadcast(&f->cond);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

eg_status eg_finisher_start(eg_finisher *f, void (*fn)(void *, unsigned),
                            void *arg, eg_error *err)
{
    *f = (eg_finisher){.fn = fn, .arg = arg};
    if (pthread_mutex_init(&f->lock, NULL) != 0)
        return eg_error_set(err, EG_ENOMEM, "finisher thread: no mutex");
    if (pthread_cond_init(&f->cond, NULL) != 0) {
        pthread_mutex_destroy(&f->lock);
        return eg_error_set(err, EG_ENOMEM, "finisher thread: no condition");
    }
    if (pthread_create(&f->thread, NULL, finisher_main, f) != 0) {
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        return eg_error_set(err, EG_ENOMEM, "finisher thread: cannot start");
    }
    return EG_OK;
}

void eg_finisher_wait(eg_finisher *f, unsigned set)
{
    pthread_mutex_lock(&f->lock);
    while (f->busy[set])
        pthread_cond_wait(&f->cond, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

void eg_finisher_post(eg_finisher *f, unsigned set)
{
    pthread_mutex_lock(&f->lock);
    f->busy[set] = 1;
    f->queue[(f->head + f->queued) % EG_FINISH_SETS] = set;
    f->queued++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void eg_finisher_stop(eg_finisher *f)
{
    pthread_mutex_lock(&f->lock);
    f->quit = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
}
