"""Scaled dot-product attention and torch's multi-head attention forward, from differentiable
ops (batched matmul, softmax, masking). Vaswani et al. 2017, "Attention Is All You Need"."""
import math

import numpy as np

from fastnn.ops import activation, linalg
from fastnn.ops.linear import linear
from fastnn.tensor import Tensor


def _as_additive(mask, dtype_like):
    """A boolean mask (True = may not attend) becomes 0 / -inf; a float mask is added as is."""
    if mask is None:
        return None
    if mask.dtype.is_floating_point:
        return mask
    data = np.where(mask._data, -np.inf, 0.0).astype(dtype_like._data.dtype)
    return Tensor._wrap(data)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over (..., L, E) queries and (..., S, E) keys. A boolean
    attn_mask marks with True the positions that take part, as torch's."""
    from fastnn.nn.functional import dropout
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = linalg.matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        allowed = np.tril(np.ones((length, source), bool))
        attn_mask = Tensor._wrap(allowed)
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            scores = scores + _as_additive(Tensor._wrap(~attn_mask._data), scores)
    weights = activation.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return linalg.matmul(weights, value)


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, key_padding_mask=None,
                         need_weights=True, attn_mask=None, dropout_p=0.0, training=True,
                         average_attn_weights=True, is_causal=False, separate=None,
                         bias_k=None, bias_v=None, add_zero_attn=False):
    """torch's multi_head_attention_forward for time-major (L, N, E) inputs. `separate` holds
    (q, k, v) projection weights when the key and value sizes differ from embed_dim."""
    from fastnn.nn.functional import dropout, pad
    length, batch, embed = query.shape
    source = key.shape[0]
    head = embed // num_heads
    if head * num_heads != embed:
        raise AssertionError(f"embed_dim {embed} not divisible by num_heads {num_heads}")
    if separate is None:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = separate
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    mask = _as_additive(attn_mask, q)
    if mask is not None:
        if mask.ndim == 2:
            if tuple(mask.shape) != (length, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but "
                                   f"should be {(length, source)}.")
            mask = mask.unsqueeze(0)
        elif tuple(mask.shape) != (batch * num_heads, length, source):
            raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(mask.shape)}, but "
                               f"should be {(batch * num_heads, length, source)}.")
    padding = _as_additive(key_padding_mask, q)
    if bias_k is not None:
        k = cat_rows(k, bias_k.reshape(1, 1, embed).expand(1, batch, embed))
        v = cat_rows(v, bias_v.reshape(1, 1, embed).expand(1, batch, embed))
        mask = None if mask is None else pad(mask, (0, 1))
        padding = None if padding is None else pad(padding, (0, 1))
    # (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(length, batch * num_heads, head).transpose(0, 1)
    k = k.reshape(k.shape[0], batch * num_heads, head).transpose(0, 1)
    v = v.reshape(v.shape[0], batch * num_heads, head).transpose(0, 1)
    if add_zero_attn:
        from fastnn.creation import zeros
        k = cat_rows(k, zeros(batch * num_heads, 1, head, dtype=k.dtype), dim=1)
        v = cat_rows(v, zeros(batch * num_heads, 1, head, dtype=v.dtype), dim=1)
        mask = None if mask is None else pad(mask, (0, 1))
        padding = None if padding is None else pad(padding, (0, 1))
    keys = k.shape[1]
    if padding is not None:
        if tuple(padding.shape) != (batch, keys):
            raise AssertionError(f"expecting key_padding_mask shape of {(batch, keys)}, but "
                                 f"got {tuple(padding.shape)}")
        padding = padding.reshape(batch, 1, 1, keys).expand(batch, num_heads, 1, keys)
        padding = padding.reshape(batch * num_heads, 1, keys)
        mask = padding if mask is None else mask + padding
    scores = linalg.bmm(q * (1.0 / math.sqrt(head)), k.transpose(1, 2))
    if mask is not None:
        scores = scores + mask
    weights = activation.softmax(scores, -1)
    if dropout_p > 0.0 and training:
        weights = dropout(weights, dropout_p, True)
    out = linalg.bmm(weights, v).transpose(0, 1).reshape(length * batch, embed)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(length, batch, embed)
    if not need_weights:
        return out, None
    weights = weights.reshape(batch, num_heads, length, keys)
    return out, (weights.mean(1) if average_attn_weights else weights)


def cat_rows(a, b, dim=0):
    from fastnn.ops.shape import cat
    return cat([a, b], dim)
