"""torch.layout: how a tensor's elements are stored (torch.strided, torch.sparse_coo)."""


class layout:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"fastnn.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


strided = layout("strided")
sparse_coo = layout("sparse_coo")
