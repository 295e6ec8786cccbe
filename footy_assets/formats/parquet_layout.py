"""What a Parquet file says of itself, read without a Parquet library: its footer and every page header, decoded
from the Thrift compact protocol in plain Python with every length and count checked against the bytes there are.

A vendor's Parquet file is read by polars, which believes what the file says: a page declaring a negative count of
values makes it ask for 2**61 bytes, and a footer that under-states how much the pages decompress to lets a few MB
become gigabytes; either ends the process (an allocation failure aborts it, no exception is raised). pyarrow's
metadata of a column chunk whose size statistics contradict the schema aborts it too. So the readers check these
claims here first (``formats.common.check_parquet_bounds``): a hostile file gets an error, never a crash.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Thrift compact protocol types
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)
_MAX_DEPTH = 16  # Parquet's footer nests five deep; a deeper one is not a Parquet footer
_MAX_PAGES = 250_000  # pages in a file: room for many small pages, and a bound on the time their headers take
_MAX_VALUES = 10_000_000  # Thrift values decoded in a file: a bound on the time its metadata takes to read
_MAX_SCHEMA_DEPTH = 16  # a vendor's table is flat; polars overflows its stack on a schema thousands deep
# polars builds the Arrow types this metadata names recursively (a type a thousand lists deep overflows its stack);
# a vendor's flat table's takes a few kB
_MAX_ARROW_SCHEMA_BYTES = 16 << 10
# Parquet's page types, repetition and the bytes polars gives a value of each physical type in memory
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_REPEATED = 2
_BOOLEAN, _INT32, _INT64, _INT96, _FLOAT, _DOUBLE, _BYTE_ARRAY, _FIXED_LEN_BYTE_ARRAY = range(8)
_VALUE_BYTES = {_BOOLEAN: 1, _INT32: 4, _INT64: 8, _INT96: 16, _FLOAT: 4, _DOUBLE: 8, _BYTE_ARRAY: 16}


class MalformedParquet(ValueError):
    """The file is not the Parquet it says it is (a length, count or offset past its bytes, or a negative one)."""


class ThriftDecoder:
    """Thrift compact values of ``data``, each read within its bounds: a struct as {field id: value}, a list as a
    list, a map as a list of pairs (``struct_of``, ``list_of`` and ``map_of`` make them: a subclass may keep the
    Thrift types too)."""

    def __init__(self, data: bytes | memoryview):
        self.data = data
        self.decoded = 0  # values decoded so far (at most _MAX_VALUES)

    def varint(self, at: int) -> tuple[int, int]:
        value = shift = 0
        for _ in range(10):
            if at >= len(self.data):
                raise MalformedParquet("a number runs past the end of the file")
            byte = self.data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value, at
        raise MalformedParquet("a number longer than 64 bits")

    def zigzag(self, at: int) -> tuple[int, int]:
        value, at = self.varint(at)
        return (value >> 1) ^ -(value & 1), at

    def value(self, at: int, kind: int, depth: int):
        self.decoded += 1
        if self.decoded > _MAX_VALUES:
            raise MalformedParquet(f"more than {_MAX_VALUES:,} values in its metadata")
        if depth > _MAX_DEPTH:
            raise MalformedParquet("metadata nested too deeply")
        if kind in (_TRUE, _FALSE):
            return kind == _TRUE, at
        if kind == _BYTE:
            self._need(at, 1)
            return self.data[at], at + 1
        if kind in (_I16, _I32, _I64):
            return self.zigzag(at)
        if kind == _DOUBLE:
            self._need(at, 8)
            return struct.unpack_from("<d", self.data, at)[0], at + 8
        if kind == _BINARY:
            size, at = self.varint(at)
            self._need(at, size)
            return bytes(self.data[at : at + size]), at + size
        if kind in (_LIST, _SET):
            self._need(at, 1)
            head = self.data[at]
            at += 1
            size, element = head >> 4, head & 0xF
            if size == 15:
                size, at = self.varint(at)
            self._need(at, size)  # each element takes a byte at least
            values = []
            for _ in range(size):
                if element in (_TRUE, _FALSE):
                    self._need(at, 1)
                    item, at = self.data[at] == 1, at + 1
                else:
                    item, at = self.value(at, element, depth + 1)
                values.append(item)
            return self.list_of(element, values), at
        if kind == _STRUCT:
            return self.struct(at, depth + 1)
        if kind == _MAP:
            size, at = self.varint(at)
            if size == 0:
                return self.map_of(0, 0, []), at
            self._need(at, 1 + size)
            types = self.data[at]
            at += 1
            items = []
            for _ in range(size):
                key, at = self.value(at, types >> 4, depth + 1)
                item, at = self.value(at, types & 0xF, depth + 1)
                items.append((key, item))
            return self.map_of(types >> 4, types & 0xF, items), at
        raise MalformedParquet(f"an unknown Thrift type {kind}")

    def struct(self, at: int, depth: int = 0) -> tuple[dict, int]:
        if depth > _MAX_DEPTH:
            raise MalformedParquet("metadata nested too deeply")
        fields = self.struct_of()
        last = 0
        while True:
            self._need(at, 1)
            head = self.data[at]
            at += 1
            if head == 0:
                return fields, at
            kind, delta = head & 0xF, head >> 4
            if delta:
                field_id = last + delta
            else:
                field_id, at = self.zigzag(at)
            value, at = self.value(at, kind, depth)
            self.put(fields, field_id, kind, value)
            last = field_id

    def struct_of(self):
        return {}

    def put(self, fields, field_id: int, kind: int, value) -> None:
        fields[field_id] = value

    def list_of(self, element: int, values: list):
        return values

    def map_of(self, key_kind: int, value_kind: int, items: list):
        return items

    def _need(self, at: int, size: int) -> None:
        if size < 0 or at + size > len(self.data):
            raise MalformedParquet("a length runs past the end of the file")


@dataclass(frozen=True)
class ParquetLayout:
    """A Parquet file's own claims: rows (the footer's, and its row groups'), the bytes its data decompresses to
    (the largest of the row groups' totals, the column chunks' totals and the pages' own sizes), the bytes polars
    would give its values in memory (each column's declared values times its type's width), and its pages."""

    rows: int
    group_rows: int
    decompressed_bytes: int
    memory_bytes: int
    pages: int


@dataclass(frozen=True)
class _Leaf:
    """A column of the schema, in the order of the column chunks: its name, whether it has one value a row, and
    the bytes a value of its physical type takes in memory."""

    name: str
    flat: bool
    value_bytes: int


def parquet_layout(
    data: bytes | memoryview, max_rows: int | None = None, max_memory_bytes: int | None = None
) -> ParquetLayout:
    """The layout of the Parquet file ``data`` (its whole bytes), from its footer and every page header (from the
    footer alone where it holds more than ``max_rows`` rows, or its column chunks' declared values take more than
    ``max_memory_bytes``: ``pages`` is then 0); raises ``MalformedParquet``
    where a claim is impossible: a count or size below zero, column chunks that overlap or lie past the data, a
    page past its column chunk, a flat column whose pages declare more values than its row group has rows, a
    column chunk in another file, a schema nested too deep, Arrow type metadata too large, a field of another type
    than Parquet's."""
    try:
        return _layout(data, max_rows, max_memory_bytes)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError, struct.error) as exc:
        if isinstance(exc, MalformedParquet):
            raise
        raise MalformedParquet(f"its metadata is not Parquet's ({type(exc).__name__})") from None


def _layout(data: bytes | memoryview, max_rows: int | None, max_memory_bytes: int | None) -> ParquetLayout:
    size = len(data)
    if size < 12 or bytes(data[:4]) != b"PAR1" or bytes(data[-4:]) != b"PAR1":
        raise MalformedParquet("no PAR1 marks at its start and end")
    footer_size = struct.unpack_from("<I", data, size - 8)[0]
    if footer_size > size - 12:
        raise MalformedParquet("its footer is longer than the file")
    data_end = size - 8 - footer_size
    decoder = ThriftDecoder(data)
    meta, end = decoder.struct(data_end)
    if end > size - 8:
        raise MalformedParquet("its footer runs past its end")
    for entry in _list(meta.get(5, []), "key-value metadata"):
        if (
            entry.get(1) == b"ARROW:schema"
            and len(_binary(entry.get(2, b""), "ARROW:schema")) > _MAX_ARROW_SCHEMA_BYTES
        ):
            raise MalformedParquet(f"its Arrow schema metadata is over {_MAX_ARROW_SCHEMA_BYTES:,} bytes")
    leaves = _leaves(_list(meta.get(2, []), "schema"))
    groups = _list(meta.get(4, []), "row groups")
    rows = _count(meta.get(3, 0), "the file's rows")
    group_rows = sum(_count(group.get(3, 0), "a row group's rows") for group in groups)
    if max_rows is not None and max(rows, group_rows) > max_rows:  # refused on its rows: no page is looked at
        return ParquetLayout(rows, group_rows, sum(max(group.get(2, 0), 0) for group in groups), 0, 0)
    chunks = []  # (start, end, row group's rows, leaf, its ColumnMetaData) of every column chunk
    group_bytes = chunk_bytes = declared_memory = 0
    for group in groups:
        in_group = group.get(3, 0)
        group_bytes += max(group.get(2, 0), 0)
        columns = _list(group.get(1, []), "column chunks")
        if len(columns) != len(leaves):
            raise MalformedParquet(f"a row group has {len(columns)} column chunks for {len(leaves)} columns")
        for chunk, leaf in zip(columns, leaves):
            if 1 in chunk:
                raise MalformedParquet("a column chunk is in another file")
            column = chunk.get(3, {})
            chunk_bytes += _count(column.get(6, 0), "a column chunk's uncompressed size")
            declared = _count(column.get(5, 0), "a column chunk's count of values")
            if leaf.flat and declared > in_group:
                raise MalformedParquet(f"column {leaf.name} declares more values than its row group has rows")
            declared_memory += declared * max(leaf.value_bytes, _VALUE_BYTES.get(column.get(1), 16))
            # where polars starts reading: the dictionary page's offset where there is one
            start = _count(column.get(11, column.get(9, 0)), "a column chunk's offset")
            stored = _count(column.get(7, 0), "a column chunk's size")
            if stored:  # an empty chunk (an empty row group's) has nothing to read
                chunks.append((start, start + stored, in_group, leaf, column))
    if max_memory_bytes is not None and declared_memory > max_memory_bytes:  # refused on it: no page looked at
        return ParquetLayout(rows, group_rows, max(group_bytes, chunk_bytes), declared_memory, 0)
    last_end = 4
    for start, stop, *_ in sorted(chunks, key=lambda c: (c[0], c[1])):
        if start < last_end or stop > data_end:
            raise MalformedParquet("its column chunks overlap or lie outside its data")
        last_end = max(stop, start + 1)
    page_bytes = memory = pages = 0
    for start, stop, in_group, leaf, column in chunks:
        width = max(leaf.value_bytes, _VALUE_BYTES.get(column.get(1), 16))
        decompressed, values, pages = _walk_pages(decoder, start, stop, in_group if leaf.flat else None, leaf, pages)
        page_bytes += decompressed
        memory += values * width
    return ParquetLayout(
        rows=rows,
        group_rows=group_rows,
        decompressed_bytes=max(group_bytes, chunk_bytes, page_bytes),
        memory_bytes=max(memory, declared_memory),
        pages=pages,
    )


def _walk_pages(
    decoder: ThriftDecoder, start: int, end: int, rows: int | None, leaf: _Leaf, pages: int
) -> tuple[int, int, int]:
    """(bytes the pages of the column chunk at ``start``..``end`` decompress to, the values its pages declare,
    dictionary entries included, the file's pages so far: ``pages`` before it), each page header read; ``rows``:
    the row group's rows for a flat column (its data pages may declare no more values), else None."""
    at, decompressed, values, in_data_pages = start, 0, 0, 0
    while at < end:
        if pages >= _MAX_PAGES:
            raise MalformedParquet(f"more than {_MAX_PAGES:,} pages")
        header, at = decoder.struct(at)
        compressed = _count(header.get(3, 0), "a page's compressed size")
        decompressed += _count(header.get(2, 0), "a page's uncompressed size")
        kind = header.get(1)
        if kind in (_DATA_PAGE, _DATA_PAGE_V2, _DICTIONARY_PAGE):
            declared = header.get({_DATA_PAGE: 5, _DATA_PAGE_V2: 8, _DICTIONARY_PAGE: 7}[kind], {})
            counted = _count(declared.get(1, 0), "a page's count of values")
            values += counted
            in_data_pages += counted if kind != _DICTIONARY_PAGE else 0
            if kind == _DATA_PAGE_V2:
                _count(declared.get(2, 0), "a page's count of nulls")
                _count(declared.get(3, 0), "a page's count of rows")
        at += compressed
        pages += 1
        if rows is not None and in_data_pages > rows:
            raise MalformedParquet(f"column {leaf.name}'s pages declare more values than its row group has rows")
    if at > end:
        raise MalformedParquet(f"a page of column {leaf.name} runs past its column chunk")
    return decompressed, values, pages


def _leaves(schema: list) -> list[_Leaf]:
    """The schema's columns (its leaves, depth first: the order of the column chunks); a column is flat where it
    is a child of the root and not repeated."""
    if not schema:
        return []
    leaves: list[_Leaf] = []
    # (children still to visit, depth) of each group open above the element read next
    open_groups = [(_count(schema[0].get(5, 0), "the schema's columns"), 0)]
    for element in schema[1:]:
        while open_groups and open_groups[-1][0] == 0:
            open_groups.pop()
        if not open_groups:
            raise MalformedParquet("its schema has more elements than its groups hold")
        remaining, depth = open_groups.pop()
        open_groups.append((remaining - 1, depth))
        children = _count(element.get(5, 0), "a schema group's children")
        if depth + 1 > _MAX_SCHEMA_DEPTH:
            raise MalformedParquet(f"its schema nests more than {_MAX_SCHEMA_DEPTH} deep")
        if children:
            open_groups.append((children, depth + 1))
            continue
        name = _binary(element.get(4, b""), "a column's name").decode("utf-8", "replace")
        physical = element.get(1)
        width = _count(element.get(2, 0), "a fixed-length column's width") if physical == _FIXED_LEN_BYTE_ARRAY else 0
        leaves.append(
            _Leaf(name, depth == 0 and element.get(3) != _REPEATED, max(width, _VALUE_BYTES.get(physical, 16)))
        )
    if any(remaining for remaining, _ in open_groups):
        raise MalformedParquet("its schema's groups hold more elements than it has")
    return leaves


def _list(value, what: str) -> list:
    if not isinstance(value, list):
        raise MalformedParquet(f"its {what} are not a list")
    return value


def _binary(value, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise MalformedParquet(f"{what} is not text")
    return value


def _count(value, what: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise MalformedParquet(f"{what} is {value}, below zero" if isinstance(value, int) else f"{what} is no number")
    return value
