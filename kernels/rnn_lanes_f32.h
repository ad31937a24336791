/* exp, tanh and sigmoid of the float32 cells (rnn_cells.h; no include guard: included once per
 * instruction set). They are computed here, not by libm, so that the loops vectorise.
 * e^y: y = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r (weighted least squares on
 * Chebyshev nodes), 2^n put into the exponent bits; the callers keep y in [-87, 88], where
 * 2^n is a normal number. tanh: an odd polynomial below |x| = 0.625 (x + x^3 P(x^2), P of
 * degree 4 fitted the same way; under 0.8 ulp there), and 1 - 2 / (e^{2|x|} + 1) above it,
 * where the subtraction cancels at most one bit (tanh(0.625) = 0.55); |x| is clamped at 10,
 * where float32 tanh is 1 (at 9 it is still 1 - 2^-24). Against float64 tanh over 3M points
 * of [0.625, 10]: at most 1.33 ulp. sigmoid(x) = 1 / (1 + e^-x), with -x clamped to
 * [-87, 88] (beyond, float32 sigmoid is 1, or below 1e-38): one exp and one division where
 * the reference's tanh(x/2)/2 + 1/2 took the whole tanh (five activations a cell made the
 * pass compute-bound). tests/test_lstm_kernel.py checks tanh to 2 ulp and sigmoid to 1.2e-7
 * on every instruction set. NaN comes out NaN, +-inf as +-1 (tanh) or 1 and 0, -0 as -0. */

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(exp_lane)(float y)
{
    const float n = __builtin_rintf(y * 1.44269504088896341f);
    const float r = (y - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    float q = 0.00137514f;
    q = q * r + 0.00836892f;
    q = q * r + 0.04166953f;
    q = q * r + 0.16666518f;
    q = q * r + 0.49999988f;
    const float poly = 1.0f + r + r * r * q;
    const int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return poly * scale;
}

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(tanh_lane)(float x)
{
    const float a = x < 0.0f ? -x : x;
    const float s = a * a;
    float p = -0.00573112f;
    p = p * s + 0.02066466f;
    p = p * s - 0.05374843f;
    p = p * s + 0.13331561f;
    p = p * s - 0.33333287f;
    const float small = a + a * s * p;
    const float y = 2.0f * (a < 10.0f ? a : 10.0f); /* a NaN becomes 10: n stays an integer */
    const float big = 1.0f - 2.0f / (FNN_VARIANT(exp_lane)(y) + 1.0f);
    float t = a < 0.625f ? small : big;
    t = a == a ? t : a;  /* NaN in, NaN out */
    return __builtin_copysignf(t, x); /* tanh(-0) = -0 */
}

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(sigmoid_lane)(float x)
{
    float y = -x;
    y = y > -87.0f ? y : -87.0f; /* a NaN becomes -87 here, and NaN again below */
    y = y < 88.0f ? y : 88.0f;
    const float v = 1.0f / (1.0f + FNN_VARIANT(exp_lane)(y));
    return x == x ? v : x;
}
