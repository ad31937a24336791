"""The kernel contract, declared once: every kernel a backend provides, its parameters, what it
computes, and (for the streaming kernels) the C function its compiled wrapper calls.

Everything else follows from this table:
- fastnn/backend/__init__.py runs `checks.check_<name>(*args)` before any backend sees a call;
- each backend module provides a function per name, or lists the name in its FALLBACK tuple to
  run the NumPy reference instead (a missing kernel is an import error, never a silent patch);
- setup.py renders the Cython wrappers of the kernels with a `stream` spec from
  kernels/_streaming.pxi.in (Tempita, as scikit-learn generates its loss wrappers).

This file imports nothing from fastnn: setup.py reads it before the package is built.
Adding a kernel: declare it here, write checks.check_<name>, then its three bodies (C + Cython
or a `stream` spec, Numba, NumPy reference) and a row in tests/test_kernels.py.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    """A 1-D streaming kernel's C call: fnn_xxx(arrays..., n, scalars...). Arrays are
    (name, kind) with kind "in" (read), "out" (written) or "opt" (written, may be None);
    scalars are (name, Cython type)."""
    c_function: str
    arrays: tuple
    scalars: tuple = ()


@dataclass(frozen=True)
class Kernel:
    name: str
    params: tuple
    doc: str
    stream: Stream = None

    @property
    def checker(self):
        return f"check_{self.name}"


KERNELS = (
    Kernel("gemm", ("a", "b", "out", "bias", "relu", "accumulate"),
           "out = a @ b (+ out if accumulate) (+ bias) (then ReLU); a and b any strides"),
    Kernel("relu_forward", ("x", "out"), "out = max(x, 0), NaN kept",
           Stream("fnn_relu_forward", (("x", "in"), ("out", "out")))),
    Kernel("relu_backward", ("x", "grad_out", "out"), "out = grad_out where x > 0, else 0",
           Stream("fnn_relu_backward", (("x", "in"), ("grad_out", "in"), ("out", "out")))),
    Kernel("sum_all", ("x", "out"),
           "out[0] = the sum of every element of x (float32, any shape, C-contiguous), "
           "accumulated in float32 blocks of 4096 and float64 across them"),
    Kernel("fill_rows", ("values", "out"),
           "out[i, :] = values[i] (out 2-D C-contiguous float32, values float32 of out.shape[0]): "
           "the adjoint of a row sum"),
    Kernel("copy_array", ("source", "out"),
           "out[...] = source, both C-contiguous of one dtype and shape (a byte copy, split over "
           "the threads as the row kernels split their rows)"),
    Kernel("relu_backward_bias", ("y", "grad_out", "out", "bias_grad"),
           "out = grad_out where y > 0 (y 2-D), bias_grad = out.sum(0) unless None"),
    Kernel("softmax_cross_entropy", ("logits", "labels", "losses", "grad", "grad_scale"),
           "losses[i] = logsumexp(logits[i]) - logits[i, labels[i]]; "
           "grad = grad_scale * (softmax(logits) - onehot(labels)) unless None"),
    Kernel("sgd_step", ("param", "grad", "buf", "lr", "weight_decay", "momentum", "dampening",
                        "nesterov", "first"),
           "torch.optim.SGD's update of param in place (buf: momentum buffer or None)",
           Stream("fnn_sgd_step", (("param", "out"), ("grad", "in"), ("buf", "opt")),
                  (("lr", "float"), ("weight_decay", "float"), ("momentum", "float"),
                   ("dampening", "float"), ("nesterov", "bint"), ("first", "bint")))),
    Kernel("adam_step", ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step_size",
                         "inv_bc2_sqrt", "beta1", "beta2", "eps", "l2", "decay"),
           "Adam/AdamW's update in place (max_exp_avg_sq: amsgrad state or None)",
           Stream("fnn_adam_step", (("param", "out"), ("grad", "in"), ("exp_avg", "out"),
                                    ("exp_avg_sq", "out"), ("max_exp_avg_sq", "opt")),
                  (("step_size", "float"), ("inv_bc2_sqrt", "float"), ("beta1", "float"),
                   ("beta2", "float"), ("eps", "float"), ("l2", "float"), ("decay", "float")))),
    Kernel("adagrad_step", ("param", "grad", "state_sum", "clr", "weight_decay", "eps"),
           "Adagrad's update in place",
           Stream("fnn_adagrad_step", (("param", "out"), ("grad", "in"), ("state_sum", "out")),
                  (("clr", "float"), ("weight_decay", "float"), ("eps", "float")))),
    Kernel("rmsprop_step", ("param", "grad", "square_avg", "grad_avg", "momentum_buffer", "lr",
                            "alpha", "eps", "weight_decay", "momentum"),
           "RMSprop's update in place (grad_avg: centered state, momentum_buffer: or None)",
           Stream("fnn_rmsprop_step", (("param", "out"), ("grad", "in"), ("square_avg", "out"),
                                       ("grad_avg", "opt"), ("momentum_buffer", "opt")),
                  (("lr", "float"), ("alpha", "float"), ("eps", "float"),
                   ("weight_decay", "float"), ("momentum", "float")))),
    Kernel("adadelta_step", ("param", "grad", "square_avg", "acc_delta", "lr", "rho", "eps",
                             "weight_decay"),
           "Adadelta's update in place (Zeiler 2012, torch.optim.Adadelta's rule)",
           Stream("fnn_adadelta_step", (("param", "out"), ("grad", "in"), ("square_avg", "out"),
                                        ("acc_delta", "out")),
                  (("lr", "float"), ("rho", "float"), ("eps", "float"),
                   ("weight_decay", "float")))),
    Kernel("adamax_step", ("param", "grad", "exp_avg", "exp_inf", "clr", "beta1", "beta2", "eps",
                           "weight_decay"),
           "Adamax's update in place (clr: lr over the bias correction 1 - beta1^t)",
           Stream("fnn_adamax_step", (("param", "out"), ("grad", "in"), ("exp_avg", "out"),
                                      ("exp_inf", "out")),
                  (("clr", "float"), ("beta1", "float"), ("beta2", "float"), ("eps", "float"),
                   ("weight_decay", "float")))),
    Kernel("nadam_step", ("param", "grad", "exp_avg", "exp_avg_sq", "grad_coef", "avg_coef",
                          "beta1", "beta2", "inv_bc2", "eps", "weight_decay", "decay"),
           "NAdam's update in place; grad_coef/avg_coef: lr times torch's momentum-schedule "
           "factors for the gradient and the running average",
           Stream("fnn_nadam_step", (("param", "out"), ("grad", "in"), ("exp_avg", "out"),
                                     ("exp_avg_sq", "out")),
                  (("grad_coef", "float"), ("avg_coef", "float"), ("beta1", "float"),
                   ("beta2", "float"), ("inv_bc2", "float"), ("eps", "float"),
                   ("weight_decay", "float"), ("decay", "float")))),
    Kernel("radam_step", ("param", "grad", "exp_avg", "exp_avg_sq", "step_size", "rect_scale",
                          "rectified", "beta1", "beta2", "eps", "weight_decay", "decay"),
           "RAdam's update in place; step_size = lr / (1 - beta1^t), rect_scale = the "
           "rectification times sqrt(1 - beta2^t), used when rectified",
           Stream("fnn_radam_step", (("param", "out"), ("grad", "in"), ("exp_avg", "out"),
                                     ("exp_avg_sq", "out")),
                  (("step_size", "float"), ("rect_scale", "float"), ("rectified", "bint"),
                   ("beta1", "float"), ("beta2", "float"), ("eps", "float"),
                   ("weight_decay", "float"), ("decay", "float")))),
    Kernel("conv2d_forward", ("x", "w", "bias", "y", "shape", "relu"),
           "y = conv2d(x, w) + bias (then ReLU); shape: the 16-int geometry of ops/conv.py"),
    Kernel("conv2d_backward", ("x", "w", "gy", "gx", "gw", "gb", "shape", "relu_output"),
           "input, weight and bias gradients of conv2d (each output may be None)"),
    Kernel("maxpool2d_forward", ("x", "y", "idx", "shape"),
           "y = max over each window, idx = the flat index of the max in its input plane"),
    Kernel("maxpool2d_backward", ("gy", "idx", "gx", "shape"),
           "gx = gy scattered to idx (indices outside the plane are skipped)"),
    Kernel("maxpool2x2_forward", ("x", "y", "code", "shape"),
           "2x2 stride-2 windows (no padding or dilation): y = the max, code = its tap dy*2 + dx "
           "(uint8)"),
    Kernel("maxpool2x2_backward", ("gy", "code", "gx", "shape"),
           "gx = gy at each window's code tap, zero everywhere else (a code above 3: nowhere)"),
    Kernel("avgpool2d_forward", ("x", "y", "shape", "count_include_pad"),
           "y = mean over each window (torch's divisor)"),
    Kernel("avgpool2d_backward", ("gy", "gx", "shape", "count_include_pad"),
           "gx = gy spread evenly over each window"),
    Kernel("lstm_forward", ("xw", "w_hh_t", "b_hh", "h0", "c0", "gates", "cells", "tanh_c",
                            "h_prev", "output", "reverse"),
           "an LSTM layer's time loop (torch.nn.LSTM, no proj_size): per step h_prev[t] = h, "
           "gates[t] = act(h w_hh_t + b_hh + xw[t]) as [sigmoid i|sigmoid f|tanh g|sigmoid o], "
           "cells[t] = c = f c + i g, tanh_c[t] = tanh(c), output[t] = h = o tanh(c); "
           "(L, N, 4H) xw/gates, (L, N, H) the rest, h0/c0 (N, H), from t = L-1 if reverse; "
           "every array float32, or every one float64 (the recurrent kernels take both)"),
    Kernel("lstm_backward", ("grad_out", "dc", "gates", "cells", "tanh_c", "c0", "w_hh",
                             "d_gates", "dh", "reverse"),
           "backpropagation through lstm_forward: d_gates[t] = the gradient of step t's gate "
           "pre-activations, dc (in: grad of c_n) becomes the grad of c0, dh the grad of h0"),
    Kernel("gru_forward", ("xw", "w_hh_t", "b_hh", "h0", "gates", "hn", "h_prev", "output",
                           "reverse"),
           "a GRU layer's time loop (torch.nn.GRU, gates [r|z|n]): per step h_prev[t] = h, "
           "g = h w_hh_t + b_hh, gates[t] = [sigmoid(xw_r + g_r)|sigmoid(xw_z + g_z)|"
           "n = tanh(xw_n + r g_n)], hn[t] = g_n, output[t] = h = (1-z) n + z h; "
           "(L, N, 3H) xw/gates, (L, N, H) the rest, h0 (N, H), from t = L-1 if reverse"),
    Kernel("gru_backward", ("grad_out", "gates", "hn", "h_prev", "w_hh", "d_xw", "d_hw", "dh",
                            "reverse"),
           "backpropagation through gru_forward: d_xw[t], d_hw[t] = the gradients of xw[t] and "
           "of h w_hh^T + b_hh at step t, dh the grad of h0"),
    Kernel("batchnorm_forward", ("x", "gamma", "beta", "y", "mean", "var", "training", "eps"),
           "y = (x - mean) / sqrt(var + eps) * gamma + beta per channel; training: the batch's "
           "mean and biased variance are written into mean/var (float64)"),
    Kernel("batchnorm_backward", ("x", "g", "gamma", "mean", "var", "gx", "ggamma", "gbeta",
                                  "eps"),
           "gradients of training-mode batch norm"),
)

NAMES = tuple(k.name for k in KERNELS)
BY_NAME = {k.name: k for k in KERNELS}
