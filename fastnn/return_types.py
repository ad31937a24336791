"""torch.return_types: the named tuples that max(dim=), sort, topk, svd and their kin return.

Like torch's structseq types they are tuples (unpack them, index them) with named fields, one
class per op kept here so isinstance, pickling and `fastnn.return_types.max` work, and they
print as torch's do, one field per line:

    fastnn.return_types.max(
    values=tensor([3., 5.]),
    indices=tensor([1, 0]))
"""
import collections

__all__ = []


def _repr(self):
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"fastnn.return_types.{type(self).__name__}(\n{fields})"


def structseq(name, fields):
    """The return type `name` with these fields, made on first use and then shared."""
    known = globals().get(name)
    if known is not None:
        if known._fields != tuple(fields):
            raise ValueError(f"return type {name} already has fields {known._fields}")
        return known
    base = collections.namedtuple(name, fields)
    made = type(name, (base,), {"__slots__": (), "__repr__": _repr, "__str__": _repr,
                                "__module__": __name__, "__qualname__": name})
    globals()[name] = made
    __all__.append(name)
    return made


for _name, _fields in [
        ("max", "values indices"), ("min", "values indices"), ("sort", "values indices"),
        ("topk", "values indices"), ("kthvalue", "values indices"), ("mode", "values indices"),
        ("median", "values indices"), ("nanmedian", "values indices"),
        ("cummax", "values indices"), ("cummin", "values indices"), ("aminmax", "min max"),
        ("svd", "U S V"), ("linalg_svd", "U S Vh"), ("linalg_qr", "Q R"), ("qr", "Q R"),
        ("linalg_eigh", "eigenvalues eigenvectors"), ("linalg_eig", "eigenvalues eigenvectors"),
        ("linalg_slogdet", "sign logabsdet"), ("slogdet", "sign logabsdet")]:
    structseq(_name, _fields.split())
