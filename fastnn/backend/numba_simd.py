"""Sixteen float32 lanes as a Numba value, for kernels that must hold a register tile.

Numba has no vector type, and LLVM's loop vectoriser will not keep a GEMM's tile of C in
registers across the k loop: it vectorises the innermost loop only, so the k-outer form loads
and stores C on every k step (about half the FMA peak, numba_gemm.py). A value of type
`f32x16` is an LLVM `<16 x float>`: local variables of this type are promoted to registers,
so a micro-kernel written with them is laid out as the C one is. LLVM lowers the type to
whatever the host has (one zmm register on AVX-512, two ymm on AVX2, four xmm on SSE), and the
masked loads and stores to masked moves or, without AVX, to scalar code.

The intrinsics take arrays and indices and do no bounds checks, like Numba's own indexing with
boundscheck off: the callers keep every index in range (the masked forms touch only the lanes
below `count`).
"""
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic, models, register_model

LANES = 16
_FLOAT = ir.FloatType()
_VEC = ir.VectorType(_FLOAT, LANES)
_I32 = ir.IntType(32)
_MASK = ir.VectorType(ir.IntType(1), LANES)
# Intrinsics over pointers are named by the pointer type: LLVM 15 and later have one opaque
# pointer type ("p0"); LLVM 14 (Numba 0.60's llvmlite) names the pointee too.
_POINTER = "p0" if binding.llvm_version_info >= (15,) else "p0v16f32"


class F32x16(types.Type):
    def __init__(self):
        super().__init__(name="f32x16")


f32x16 = F32x16()


@register_model(F32x16)
class _F32x16Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC)


def _lane_pointer(context, builder, array_type, array, indices):
    """A <16 x float>* to array[indices] (any layout: the strides are applied as Numba's
    indexing applies them; the 16 floats from there must be contiguous)."""
    view = context.make_array(array_type)(context, builder, array)
    pointer = cgutils.get_item_pointer(context, builder, array_type, view, indices,
                                       wraparound=False, boundscheck=False)
    return builder.bitcast(pointer, _VEC.as_pointer())


def _first_lanes(builder, count):
    """The mask of lanes 0 .. count-1 (count is an int64; <= 0 gives no lane)."""
    lane = ir.Constant(ir.VectorType(ir.IntType(64), LANES), list(range(LANES)))
    limit = builder.insert_element(ir.Constant(ir.VectorType(ir.IntType(64), LANES), ir.Undefined),
                                   count, ir.Constant(_I32, 0))
    limit = builder.shuffle_vector(limit, limit, ir.Constant(ir.VectorType(_I32, LANES), None))
    return builder.icmp_signed("<", lane, limit)


def _intrinsic(builder, name, return_type, argument_types):
    return cgutils.get_or_insert_function(builder.module,
                                          ir.FunctionType(return_type, argument_types), name)


@intrinsic
def zeros(typingctx):
    def codegen(context, builder, signature, args):
        return ir.Constant(_VEC, None)
    return f32x16(), codegen


@intrinsic
def splat(typingctx, value):
    """Every lane = value (a float32)."""
    def codegen(context, builder, signature, args):
        one = builder.insert_element(ir.Constant(_VEC, ir.Undefined), args[0], ir.Constant(_I32, 0))
        return builder.shuffle_vector(one, one, ir.Constant(ir.VectorType(_I32, LANES), None))
    return f32x16(types.float32), codegen


@intrinsic
def load(typingctx, array, i, j):
    """array[i, j:j+16]."""
    def codegen(context, builder, signature, args):
        return builder.load(_lane_pointer(context, builder, signature.args[0], args[0], args[1:]),
                            align=4)
    return f32x16(array, i, j), codegen


@intrinsic
def load_first(typingctx, array, i, j, count):
    """array[i, j:j+count] in the first count lanes, 0 in the others (count <= 16; memory past
    the count is not read)."""
    def codegen(context, builder, signature, args):
        pointer = _lane_pointer(context, builder, signature.args[0], args[0], args[1:3])
        masked_load = _intrinsic(builder, f"llvm.masked.load.v16f32.{_POINTER}", _VEC,
                                 [_VEC.as_pointer(), _I32, _MASK, _VEC])
        return builder.call(masked_load, [pointer, ir.Constant(_I32, 4),
                                          _first_lanes(builder, args[3]), ir.Constant(_VEC, None)])
    return f32x16(array, i, j, types.int64), codegen


@intrinsic
def store_first(typingctx, array, i, j, value, count):
    """array[i, j:j+count] = the first count lanes of value (memory past them untouched)."""
    def codegen(context, builder, signature, args):
        pointer = _lane_pointer(context, builder, signature.args[0], args[0], args[1:3])
        masked_store = _intrinsic(builder, f"llvm.masked.store.v16f32.{_POINTER}", ir.VoidType(),
                                  [_VEC, _VEC.as_pointer(), _I32, _MASK])
        builder.call(masked_store, [args[3], pointer, ir.Constant(_I32, 4),
                                    _first_lanes(builder, args[4])])
    return types.void(array, i, j, value, types.int64), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c per lane, fused where the CPU has FMA (llvm.fmuladd, as `contract` allows)."""
    def codegen(context, builder, signature, args):
        fmuladd = _intrinsic(builder, "llvm.fmuladd.v16f32", _VEC, [_VEC, _VEC, _VEC])
        return builder.call(fmuladd, args)
    return f32x16(a, b, c), codegen


@intrinsic
def add(typingctx, a, b):
    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1])
    return f32x16(a, b), codegen


@intrinsic
def relu(typingctx, value):
    """0 where value <= 0, value elsewhere: NaN stays NaN, as in the scalar kernels (a max
    instruction would turn it into 0)."""
    def codegen(context, builder, signature, args):
        zero = ir.Constant(_VEC, None)
        not_positive = builder.fcmp_ordered("<=", args[0], zero)
        return builder.select(not_positive, zero, args[0])
    return f32x16(value), codegen


def _transposed(builder, rows):
    """The 16 vectors of a 16x16 block transposed, in four rounds of two-source shuffles: the
    round for bit d swaps bit d of each element's row with bit d of its column, so after the
    rounds for 8, 4, 2 and 1 every element (r, c) sits at (c, r)."""
    for d in (8, 4, 2, 1):
        low = [c if not c & d else LANES + c - d for c in range(LANES)]
        high = [c + d if not c & d else LANES + c for c in range(LANES)]
        low, high = (ir.Constant(ir.VectorType(_I32, LANES), mask) for mask in (low, high))
        swapped = list(rows)
        for p in range(LANES):
            if not p & d:
                swapped[p] = builder.shuffle_vector(rows[p], rows[p + d], low)
                swapped[p + d] = builder.shuffle_vector(rows[p], rows[p + d], high)
        rows = swapped
    return rows


@intrinsic
def transpose16(typingctx, source, i, j, target, ti, tj):
    """target[ti + c, tj:tj+16] = source[i:i+16, j + c] for c in 0..15: a 16x16 block moved
    through registers (the rows of both blocks must be contiguous)."""
    def codegen(context, builder, signature, args):
        source_type, target_type = signature.args[0], signature.args[3]
        rows = []
        for r in range(LANES):
            row = builder.add(args[1], ir.Constant(args[1].type, r))
            rows.append(builder.load(_lane_pointer(context, builder, source_type, args[0],
                                                   [row, args[2]]), align=4))
        for c, vector in enumerate(_transposed(builder, rows)):
            row = builder.add(args[4], ir.Constant(args[4].type, c))
            builder.store(vector, _lane_pointer(context, builder, target_type, args[3],
                                                [row, args[5]]), align=4)
    return types.void(source, i, j, target, ti, tj), codegen
