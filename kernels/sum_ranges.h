/* One part of fnn_sum_f32 (reduce.c), compiled once per instruction set by isa_variants.h.
 * 64 float32 lanes, lane j summing x[j], x[j + 64], ... in order: the lanes are independent,
 * so the compiler vectorises the loop without reassociating anything, and every instruction
 * set computes the same bits. Each block of SUM_BLOCK values then leaves its 64 lane sums to a
 * float64 total, so no float32 lane adds more than SUM_BLOCK / 64 = 64 values. */
#ifndef FNN_SUM_LANES
#define FNN_SUM_LANES 64
#define FNN_SUM_BLOCK 4096
#endif

FNN_TARGET static void FNN_VARIANT(sum_part)(const float *x, ptrdiff_t n, double *sum)
{
    double total = 0.0;
    ptrdiff_t i = 0;
    for (; i + FNN_SUM_LANES <= n; ) {
        float lane[FNN_SUM_LANES] = {0};
        const ptrdiff_t stop = i + FNN_SUM_BLOCK <= n ? i + FNN_SUM_BLOCK
                                                      : n - (n - i) % FNN_SUM_LANES;
        for (; i < stop; i += FNN_SUM_LANES)
            for (int j = 0; j < FNN_SUM_LANES; ++j) lane[j] += x[i + j];
        /* the 64 lane sums pairwise in float64 (a fixed order) */
        double pairs[FNN_SUM_LANES / 2];
        for (int j = 0; j < FNN_SUM_LANES / 2; ++j)
            pairs[j] = (double)lane[2 * j] + lane[2 * j + 1];
        for (int width = FNN_SUM_LANES / 4; width >= 1; width /= 2)
            for (int j = 0; j < width; ++j) pairs[j] = pairs[2 * j] + pairs[2 * j + 1];
        total += pairs[0];
    }
    for (; i < n; ++i) total += x[i];
    *sum = total;
}
