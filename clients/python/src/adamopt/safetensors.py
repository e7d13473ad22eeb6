"""The safetensors format, both ways, without copying tensor data.

:func:`pack` builds a body from memoryviews of the arrays (nothing is copied: the HTTP client sends each view as it
is), :func:`unpack` reads a file into NumPy arrays that are views of the one buffer it was read into. The service
speaks this format for steps, parameters and checkpoints (``application/octet-stream``); this module needs only
NumPy, and is usable on its own (``unpack(open(path, "rb").read())``).
"""

import json
import struct

import numpy as np

__all__ = ["Body", "pack", "unpack", "DTYPES"]

#: safetensors dtype name -> NumPy dtype (little-endian, as the format is)
DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2")}

_NAMES = {dtype: name for name, dtype in DTYPES.items()}


class Body:
    """A safetensors file as a sequence of buffers: the header, then each tensor's bytes, none of them copied.

    ``requests`` sends an iterable with a length as a ``Content-Length`` body, one ``sendall`` per buffer; iterating
    again gives the same bytes, so a retry sends the body again byte for byte.
    """

    __slots__ = ("parts", "length")

    def __init__(self, parts):
        self.parts = parts
        self.length = sum(part.nbytes for part in parts)

    def __iter__(self):
        return iter(self.parts)

    def __len__(self):
        return self.length

    def __bytes__(self):
        return b"".join(self.parts)


def _contiguous(array, name):
    array = np.asarray(array)
    dtype = array.dtype
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        dtype = dtype.newbyteorder("<")
    elif dtype.kind in "iub":
        dtype = np.dtype("<f8")  # whole numbers and booleans travel as float64
    else:
        raise TypeError(f"tensor '{name}' has dtype {dtype}: send float64, float32 or float16 (gradients only)")
    # a contiguous little-endian array is used as it is; anything else is copied once, into that layout
    # (np.asarray, not np.ascontiguousarray, which makes a 0-d array 1-d)
    return np.asarray(array, dtype=dtype, order="C")


def pack(tensors, metadata=None):
    """``{name: array}`` (and ``{key: str}`` metadata) -> a :class:`Body`: float64 as F64, float32 as F32, float16
    as F16; other numbers as F64. Contiguous arrays are not copied: the body holds views of them, so do not change
    them until the body is sent."""
    header, parts, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    for name, array in tensors.items():
        array = _contiguous(array, name)
        data = memoryview(array.reshape(-1).view(np.uint8))
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + data.nbytes]}
        offset += data.nbytes
        parts.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # pad the header so that the data starts 8-byte aligned
    return Body([memoryview(struct.pack("<Q", len(raw)) + raw), *parts])


def unpack(buffer):
    """A safetensors file -> ``({name: array}, metadata)``. The arrays are views of ``buffer`` (writable when the
    buffer is), in the file's order."""
    data = np.frombuffer(buffer, dtype=np.uint8) if not isinstance(buffer, np.ndarray) else buffer
    if data.size < 8:
        raise ValueError(f"not a safetensors file: {data.size} bytes")
    n = int(data[:8].view("<u8")[0])
    if n > data.size - 8:
        raise ValueError(f"not a safetensors file: its header claims {n} bytes, the file has {data.size - 8}")
    header = json.loads(data[8:8 + n].tobytes())
    metadata = header.pop("__metadata__", None) or {}
    start = 8 + n
    tensors = {}
    for name, entry in header.items():
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"tensor '{name}' has dtype {entry['dtype']}, which this client does not read")
        begin, end = entry["data_offsets"]
        tensors[name] = data[start + begin:start + end].view(dtype).reshape(entry["shape"])
    return tensors, metadata
