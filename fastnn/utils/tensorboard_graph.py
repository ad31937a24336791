"""The model graph SummaryWriter.add_graph draws in TensorBoard's Graphs tab.

torch traces the model with TorchScript; fastnn has no tracer, so the graph is read from one
forward pass instead: forward hooks record each leaf module's call (its inputs and outputs),
and the autograd graph of the pass (run with grad on, the inputs made leaves that require
grad) gives the functional ops between them (F.relu, view, +). Each node is named by its module
scope as torch's are, `Net/Sequential[features]/Conv2d[0]/...`, so TensorBoard folds a module's
nodes into one box; the inputs and outputs are `input/input.N` and `output/output.N` "IO Node"s,
and every edge carries its tensor shape (`_output_shapes`)."""
import re

from fastnn.autograd import function as autograd_function
from fastnn.autograd.grad_mode import enable_grad
from fastnn.tensor import Tensor


def graph_def(model, input_to_model, verbose=False):
    """The GraphDef of one forward pass of model on input_to_model."""
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    inputs = input_to_model if isinstance(input_to_model, (list, tuple)) else (input_to_model,)
    builder = _Builder(model)
    feed = [x.detach().requires_grad_(True) if isinstance(x, Tensor) and x.is_floating_point()
            else x for x in inputs]
    for k, x in enumerate(feed):
        if isinstance(x, Tensor):
            builder.add(f"input/input.{k + 1}", "IO Node", [], x.shape, producer=x)
    handles = builder.hook()
    try:
        with enable_grad():
            outputs = model(*feed)
    finally:
        for handle in handles:
            handle.remove()
    builder.add_calls()
    for k, out in enumerate(_tensors(outputs)):
        builder.add(f"output/output.{k + 1}", "IO Node", builder.sources(out), out.shape)
    if verbose:
        for node in builder.nodes:
            print(f"{node.name} = {node.op}({', '.join(node.input)})")
    return GraphDef(node=builder.nodes, versions=VersionDef(producer=22))


def _tensors(value):
    """The tensors in a module's input or output (a tensor, or tuples and lists of them)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _op_name(node):
    """An autograd node's op as torch's graph names it: ReluBackward0 -> aten::relu."""
    base = re.sub(r"Backward\d*$", "", node.name())
    return "aten::" + re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


_NOW = object()


class _Builder:
    def __init__(self, model):
        self.root = type(model).__name__
        self.nodes, self.producers, self.calls, self.spans = [], {}, [], []
        self.counts = {}
        self.scopes, by_name = {}, {}
        if hasattr(model, "named_modules"):
            for name, module in model.named_modules():  # (parents come before children)
                parent, _, last = name.rpartition(".")
                scope = f"{by_name[parent]}/{type(module).__name__}[{last}]" if name else \
                    self.root
                self.scopes[id(module)] = by_name[name] = scope
        self.model = model

    def hook(self):
        """Forward hooks: each leaf module's call, and every module's span of autograd nodes
        (node sequence numbers grow as the pass records them)."""
        if not hasattr(self.model, "modules"):
            return []
        handles, open_calls = [], []
        for module in self.model.modules():
            scope = self.scopes[id(module)]

            def before(mod, args, scope=scope):
                # the inputs' nodes now: an in-place module (ReLU(inplace=True)) moves them
                span = [scope, next(autograd_function._sequence), None]
                self.spans.append(span)
                open_calls.append((span, [(t, t._node) for t in _tensors(args)]))

            def after(mod, args, output):
                span, inputs = open_calls.pop()  # calls nest, so the last opened ends first
                span[2] = next(autograd_function._sequence)
                if not any(True for _ in mod.children()):
                    self.calls.append((mod, span[0], inputs,
                                       [(t, t._node) for t in _tensors(output)]))

            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
        return handles

    def add(self, name, op, inputs, shape, producer=None, attr=""):
        from tensorboardX.proto.attr_value_pb2 import AttrValue
        from tensorboardX.proto.node_def_pb2 import NodeDef
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
        dims = [TensorShapeProto.Dim(size=int(s)) for s in shape]
        node = NodeDef(name=name, op=op, input=inputs, attr={
            "_output_shapes": AttrValue(list=AttrValue.ListValue(
                shape=[TensorShapeProto(dim=dims)])),
            "attr": AttrValue(s=attr.encode())})
        self.nodes.append(node)
        if producer is not None:
            self.producers[id(producer)] = name
        return name

    def unique(self, prefix):
        count = self.counts.get(prefix, 0) + 1
        self.counts[prefix] = count
        return f"{prefix}.{count}"

    def add_calls(self):
        for module, scope, args, outs in self.calls:
            inputs = [source for t, node in args for source in self.sources(t, node)]
            name = self.unique(f"{scope}/{type(module).__name__.lower()}")
            shape = outs[0][0].shape if outs else ()
            self.add(name, type(module).__name__, inputs, shape, attr=module.extra_repr())
            for _, node in outs:
                if node is not None:
                    self.producers[id(node)] = name

    def sources(self, t, node=_NOW):
        """The graph nodes tensor t came from (node: its grad_fn as a hook saw it, since an
        in-place op may have moved it; by default its grad_fn now)."""
        if id(t) in self.producers:
            return [self.producers[id(t)]]
        return self._resolve(t._node if node is _NOW else node)

    def _scope_of(self, seq):
        """The innermost module whose call recorded autograd node number seq."""
        inside = [s for s in self.spans if s[1] < seq and (s[2] is None or seq < s[2])]
        return max(inside, key=lambda s: s[1])[0] if inside else self.root

    def _resolve(self, edge):
        if edge is None:
            return []
        if id(edge) in self.producers:
            return [self.producers[id(edge)]]
        if isinstance(edge, Tensor) or not hasattr(edge, "edges"):
            return []  # a parameter or a constant: drawn inside its module, as torch's graph
        inputs = [source for e in edge.edges for source in self._resolve(e)]
        op = _op_name(edge)
        name = self.unique(f"{self._scope_of(edge.seq)}/{op.split('::')[-1]}")
        return [self.add(name, op, inputs, edge.shape or (), producer=edge)]
