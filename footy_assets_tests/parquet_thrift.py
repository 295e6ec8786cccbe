"""A Thrift compact-protocol encoder, to make hostile Parquet files for the tests: a footer or a page header is
decoded (by the readers' own decoder, the types kept), one field changed, and encoded again. A struct decodes to a
list of ``[field_id, type, value]``, a list to ``("list", element_type, values)``, a map to
``("map", key_type, value_type, items)``."""

from __future__ import annotations

import struct

from footy_assets.formats.parquet_layout import ThriftDecoder

BOOL_TRUE, BOOL_FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _encode_zigzag(n: int, bits: int = 64) -> bytes:
    return _encode_varint((n << 1) ^ (n >> (bits - 1)))


class _TypedDecoder(ThriftDecoder):
    """The product's decoder, keeping each field's Thrift type so that the struct can be encoded again."""

    def struct_of(self):
        return []

    def put(self, fields, field_id, kind, value):
        fields.append([field_id, kind, value])

    def list_of(self, element, values):
        return ("list", element, values)

    def map_of(self, key_kind, value_kind, items):
        return ("map", key_kind, value_kind, items)


def read_struct(data: bytes, at: int) -> tuple[list, int]:
    """The struct at ``at`` of ``data`` and where it ends."""
    return _TypedDecoder(data).struct(at)


def write_value(value, kind: int) -> bytes:
    if kind in (BOOL_TRUE, BOOL_FALSE):
        return b""
    if kind == BYTE:
        return bytes([value & 0xFF])
    if kind in (I16, I32):
        return _encode_zigzag(value, 32)
    if kind == I64:
        return _encode_zigzag(value, 64)
    if kind == DOUBLE:
        return struct.pack("<d", value)
    if kind == BINARY:
        return _encode_varint(len(value)) + value
    if kind in (LIST, SET):
        _, element, values = value
        out = bytearray([(min(len(values), 15) << 4) | element])
        out += _encode_varint(len(values)) if len(values) >= 15 else b""
        for item in values:
            out += bytes([1 if item else 2]) if element in (BOOL_TRUE, BOOL_FALSE) else write_value(item, element)
        return bytes(out)
    if kind == STRUCT:
        return write_struct(value)
    _, key_kind, value_kind, items = value  # MAP
    if not items:
        return b"\x00"
    body = b"".join(write_value(k, key_kind) + write_value(v, value_kind) for k, v in items)
    return _encode_varint(len(items)) + bytes([(key_kind << 4) | value_kind]) + body


def write_struct(fields: list) -> bytes:
    out, last = bytearray(), 0
    for field_id, kind, value in fields:
        if kind in (BOOL_TRUE, BOOL_FALSE):
            kind = BOOL_TRUE if value else BOOL_FALSE
        delta = field_id - last
        out += bytes([(delta << 4) | kind]) if 0 < delta <= 15 else bytes([kind]) + _encode_zigzag(field_id, 16)
        out += write_value(value, kind)
        last = field_id
    return bytes(out + b"\x00")


def field(fields: list, field_id: int) -> list:
    """The ``[field_id, type, value]`` entry of ``field_id`` in a decoded struct."""
    return next(f for f in fields if f[0] == field_id)


def split_parquet(data: bytes) -> tuple[bytes, list]:
    """(the file's bytes before its footer, the footer's FileMetaData decoded)."""
    size = struct.unpack("<I", data[-8:-4])[0]
    meta, end = read_struct(data[-8 - size : -8], 0)
    assert end == size, (end, size)
    return data[: -8 - size], meta


def join_parquet(body: bytes, meta: list) -> bytes:
    footer = write_struct(meta)
    return body + footer + struct.pack("<I", len(footer)) + b"PAR1"
