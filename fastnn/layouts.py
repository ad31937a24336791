"""torch.layout: how a tensor's elements are stored (torch.strided, torch.sparse_coo)."""


class NamedSingleton:
    """A value torch exposes as a module-level name (torch.strided, torch.channels_last):
    shown as fastnn.<name> and pickled as that name."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"fastnn.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


class layout(NamedSingleton):
    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
