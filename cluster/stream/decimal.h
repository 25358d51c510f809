/* decimal.h - a decimal number's double, correctly rounded, without
 * strtod where that is cheap to do exactly: the records' parsers spend
 * most of their time converting numbers.
 *
 * The fast path takes [-]digits[.digits][(e|E)[+|-]digits] with at most 19
 * significant digits and a decimal exponent within +-27: the digits are
 * an integer m < 2^64 and 10^|e| < 2^91 (5^27 < 2^64) are exact in x87
 * long double (64-bit significand), so m * 10^e or m / 10^e is one
 * rounding to 64 bits, and the rounding to double that follows is the
 * correct one unless the long double lands next to a midpoint of two
 * doubles (then strtod decides).  Anything else (more digits, larger
 * exponents, hex, inf, nan, a '+') goes to strtod.  Without an 80-bit
 * long double only exact integers and Clinger's case (m <= 2^53, |e| <=
 * 22, one IEEE operation) take the fast path. */
#ifndef EG_STREAM_DECIMAL_H
#define EG_STREAM_DECIMAL_H

#include <stddef.h>

/* The number in p[0, len) (no spaces), as strtod reads it; 0, or -1 when
 * strtod would not take all of it. */
int eg_decimal_parse(const char *p, size_t len, double *out);

#endif
