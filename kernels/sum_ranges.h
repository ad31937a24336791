/* One part of fnn_sum_f32 (reduce.c), compiled once per instruction set by isa_variants.h.
 * 64 float32 lanes, lane j summing x[j], x[j + 64], ... in order: the lanes are independent,
 * so the compiler vectorises the loop without reassociating anything, and every instruction
 * set computes the same bits. After each block of SUM_BLOCK values every lane's float32 sum
 * joins that lane's float64 total, so no float32 lane adds more than SUM_BLOCK / 64 = 64
 * values; the 64 float64 totals are summed pairwise (a fixed order) once, at the end. Reducing
 * the lanes pairwise after every block instead (spilling them to the stack) made the part
 * 9% slower, 61.0 against 55.7 us for a (64,128,14,14) tensor, alternated in one process. */
#ifndef FNN_SUM_LANES
#define FNN_SUM_LANES 64 /* the tree below is written out for 64 lanes */
#define FNN_SUM_BLOCK 4096
#endif

FNN_TARGET static void FNN_VARIANT(sum_part)(const float *x, ptrdiff_t n, double *sum)
{
    if (n < FNN_SUM_LANES) {  /* no lane gets a value: the same bits as the lanes' zero total */
        double total = 0.0;
        for (ptrdiff_t i = 0; i < n; ++i) total += x[i];
        *sum = total;
        return;
    }
    double wide[FNN_SUM_LANES] = {0};
    ptrdiff_t i = 0;
    for (; i + FNN_SUM_LANES <= n; ) {
        float lane[FNN_SUM_LANES] = {0};
        const ptrdiff_t stop = i + FNN_SUM_BLOCK <= n ? i + FNN_SUM_BLOCK
                                                      : n - (n - i) % FNN_SUM_LANES;
        for (; i < stop; i += FNN_SUM_LANES)
            for (int j = 0; j < FNN_SUM_LANES; ++j) lane[j] += x[i + j];
        for (int j = 0; j < FNN_SUM_LANES; ++j) wide[j] += lane[j];
    }
    /* The pairwise tree, one array per level: the same additions in the same order as
     * reducing `wide` in place, but the compiler vectorises each level instead of chaining
     * stores to loads; with the early return above this took the 64 parts' fixed cost from
     * 3.5 to 1.4 us for a 16 Ki-float array (C microbenchmark, same bits). */
    double l32[32], l16[16], l8[8], l4[4];
    for (int j = 0; j < 32; ++j) l32[j] = wide[2 * j] + wide[2 * j + 1];
    for (int j = 0; j < 16; ++j) l16[j] = l32[2 * j] + l32[2 * j + 1];
    for (int j = 0; j < 8; ++j) l8[j] = l16[2 * j] + l16[2 * j + 1];
    for (int j = 0; j < 4; ++j) l4[j] = l8[2 * j] + l8[2 * j + 1];
    double total = (l4[0] + l4[1]) + (l4[2] + l4[3]);
    for (; i < n; ++i) total += x[i];
    *sum = total;
}
