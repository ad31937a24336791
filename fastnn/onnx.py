"""torch.onnx's names, for programs that import it (pytorch/examples word_language_model does,
and exports only when asked with --onnx-export). fastnn does not write ONNX files: export says
so and names what fastnn does save; is_in_onnx_export is False, as in torch outside an export."""


class OnnxExporterError(RuntimeError):
    """torch.onnx.OnnxExporterError: an export failed."""


def is_in_onnx_export():
    """Whether an ONNX export is tracing the model: never, in fastnn."""
    return False


def export(model, args=(), f=None, *unused_args, **unused_kwargs):
    """torch.onnx.export: not available in fastnn."""
    raise OnnxExporterError(
        "fastnn cannot export ONNX models. Save the weights with "
        "fastnn.save(model.state_dict(), path) (a safetensors file PyTorch reads with "
        "safetensors.torch.load_file) and export from PyTorch.")


def dynamo_export(*args, **kwargs):
    """torch.onnx.dynamo_export: not available in fastnn (see export)."""
    export(None)
