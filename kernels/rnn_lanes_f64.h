/* exp, tanh and sigmoid of the float64 cells (rnn_cells.h with FNN_RNN_DOUBLE; no include
 * guard: included once per instruction set), libm-free so that the loops vectorise, to about
 * 2 ulp (tests/test_rnn_f64_kernels.py checks them against NumPy's).
 * e^y: y = n ln2 + r (ln2 in two parts, the first exact in 32 bits), |r| <= ln2/2, then the
 * Taylor polynomial of degree 13 (its remainder r^14/14! < 5e-18 there) and 2^n put into the
 * exponent bits; the callers keep y in [-708, 709], where 2^n is a normal number.
 * e^y - 1 for |y| < 1.25 (tanh's small arguments, where e^y - 1 cancels): the Taylor
 * polynomial of degree 17 at y/2 (remainder below 2e-18 relative), squared back up as
 * (e^{y/2} - 1)(e^{y/2} + 1). tanh(a) = -t / (2 + t) with t = e^{-2a} - 1 for a = |x|, clamped
 * at 20, where float64 tanh is 1. sigmoid(x) = 1 / (1 + e^-x), -x clamped to [-708, 709]
 * (and 0 below x = -709). NaN
 * comes out NaN, +-inf as +-1 (tanh) or 1 and 0, -0 as -0. */

FNN_TARGET static inline __attribute__((always_inline)) double FNN_VARIANT(exp_lane)(double y)
{
    const double n = __builtin_rint(y * 1.4426950408889634074);
    const double r = (y - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double q = 1.0 / 6227020800.0; /* 1/13! */
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    const double poly = 1.0 + (r + r * r * q);
    /* 2^n, n in [-1022, 1023]: n + 1023 sits in the low bits of 2^52 + n + 1023, and shifted
     * up it is the exponent field. (A double-to-integer conversion has no packed form below
     * AVX512DQ: with (int64_t)n the loop ran scalar, 40 ns a cell.) */
    const double biased = n + (4503599627370496.0 + 1023.0);
    uint64_t bits;
    __builtin_memcpy(&bits, &biased, sizeof bits);
    bits <<= 52;
    double scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return poly * scale;
}

/* e^y - 1 for |y| < 1.25 */
FNN_TARGET static inline __attribute__((always_inline)) double FNN_VARIANT(expm1_small)(double y)
{
    const double z = 0.5 * y;
    double q = 1.0 / 355687428096000.0; /* 1/17! */
    q = q * z + 1.0 / 20922789888000.0;
    q = q * z + 1.0 / 1307674368000.0;
    q = q * z + 1.0 / 87178291200.0;
    q = q * z + 1.0 / 6227020800.0;
    q = q * z + 1.0 / 479001600.0;
    q = q * z + 1.0 / 39916800.0;
    q = q * z + 1.0 / 3628800.0;
    q = q * z + 1.0 / 362880.0;
    q = q * z + 1.0 / 40320.0;
    q = q * z + 1.0 / 5040.0;
    q = q * z + 1.0 / 720.0;
    q = q * z + 1.0 / 120.0;
    q = q * z + 1.0 / 24.0;
    q = q * z + 1.0 / 6.0;
    q = q * z + 0.5;
    const double half = z + z * z * q; /* e^{y/2} - 1 */
    return half * (half + 2.0);
}

FNN_TARGET static inline __attribute__((always_inline)) double FNN_VARIANT(tanh_lane)(double x)
{
    const double a = x < 0.0 ? -x : x;
    const double y = -2.0 * (a < 20.0 ? a : 20.0); /* a NaN becomes 20: n stays an integer */
    const double t = a < 0.625 ? FNN_VARIANT(expm1_small)(y) : FNN_VARIANT(exp_lane)(y) - 1.0;
    double v = -t / (2.0 + t);
    v = a == a ? v : a; /* NaN in, NaN out */
    return __builtin_copysign(v, x); /* tanh(-0) = -0 */
}

FNN_TARGET static inline __attribute__((always_inline)) double FNN_VARIANT(sigmoid_lane)(double x)
{
    double y = -x;
    y = y > -708.0 ? y : -708.0; /* a NaN becomes -708 here, and NaN again below */
    y = y < 709.0 ? y : 709.0;
    const double v = 1.0 / (1.0 + FNN_VARIANT(exp_lane)(y));
    return x == x ? (x < -709.0 ? 0.0 : v) : x; /* (below -709, e^x is a denormal at most) */
}
