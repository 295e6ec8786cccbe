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
_MAX_PAGES = 250_000  # pages in a file: a full match has 1,000-2,000; each header read costs some microseconds
# Parquet's page types and repetition
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_REPEATED = 2


class MalformedParquet(ValueError):
    """The file is not the Parquet it says it is (a length, count or offset past its bytes, or a negative one)."""


class ThriftDecoder:
    """Thrift compact values of ``data``, each read within its bounds: a struct as {field id: value}, a list as a
    list, a map as a list of pairs (``struct_of``, ``list_of`` and ``map_of`` make them: a subclass may keep the
    Thrift types too)."""

    def __init__(self, data: bytes | memoryview):
        self.data = data

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
    (the largest of the row groups' totals, the column chunks' totals and the pages' own sizes), and the values its
    pages declare."""

    rows: int
    group_rows: int
    decompressed_bytes: int
    pages: int


def parquet_layout(data: bytes | memoryview, max_rows: int | None = None) -> ParquetLayout:
    """The layout of the Parquet file ``data`` (its whole bytes), from its footer and every page header (from the
    footer alone where it holds more than ``max_rows`` rows: ``pages`` is then 0); raises
    ``MalformedParquet`` where a claim is impossible: a count or size below zero, a page past its column chunk, a
    flat column whose pages declare more values than its row group has rows, a column chunk in another file, a
    field of another type than Parquet's."""
    try:
        return _layout(data, max_rows)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, struct.error) as exc:
        if isinstance(exc, MalformedParquet):
            raise
        raise MalformedParquet(f"its metadata is not Parquet's ({type(exc).__name__})") from None


def _layout(data: bytes | memoryview, max_rows: int | None) -> ParquetLayout:
    size = len(data)
    if size < 12 or bytes(data[:4]) != b"PAR1" or bytes(data[-4:]) != b"PAR1":
        raise MalformedParquet("no PAR1 marks at its start and end")
    footer_size = struct.unpack_from("<I", data, size - 8)[0]
    if footer_size > size - 12:
        raise MalformedParquet("its footer is longer than the file")
    decoder = ThriftDecoder(data)
    meta, end = decoder.struct(size - 8 - footer_size)
    if end > size - 8:
        raise MalformedParquet("its footer runs past its end")
    flat = _flat_columns(meta.get(2, []))
    groups = meta.get(4, [])
    rows = _count(meta.get(3, 0), "the file's rows")
    group_rows = sum(_count(group.get(3, 0), "a row group's rows") for group in groups)
    if max_rows is not None and max(rows, group_rows) > max_rows:  # refused on its rows: no page is looked at
        return ParquetLayout(rows, group_rows, sum(max(group.get(2, 0), 0) for group in groups), 0)
    chunk_bytes = page_bytes = group_bytes = pages = 0
    for group in groups:
        in_group = group.get(3, 0)
        group_bytes += max(group.get(2, 0), 0)
        for chunk in group.get(1, []):
            if 1 in chunk:
                raise MalformedParquet("a column chunk is in another file")
            column = chunk.get(3, {})
            path = tuple(bytes(p) for p in column.get(3, []))
            chunk_bytes += _count(column.get(6, 0), "a column chunk's uncompressed size")
            declared = _count(column.get(5, 0), "a column chunk's count of values")
            if path in flat and declared > in_group:
                raise MalformedParquet(f"column {_name(path)} declares more values than its row group has rows")
            limit = in_group if path in flat else None
            walked = _walk_pages(decoder, column, size - 8 - footer_size, limit, path, pages)
            page_bytes += walked[0]
            pages = walked[1]
    return ParquetLayout(
        rows=rows,
        group_rows=group_rows,
        decompressed_bytes=max(group_bytes, chunk_bytes, page_bytes),
        pages=pages,
    )


def _walk_pages(
    decoder: ThriftDecoder, column: dict, data_end: int, rows: int | None, path, pages: int
) -> tuple[int, int]:
    """(bytes the pages of a column chunk decompress to, the file's pages so far: ``pages`` before it), each page
    header read; ``rows``: the row group's rows for a flat column (its data pages may declare no more values),
    else None."""
    start = column.get(9, 0)  # data_page_offset; the dictionary page, if any, comes before it
    if column.get(11, 0) > 0:
        start = min(start, column[11])
    end = start + _count(column.get(7, 0), "a column chunk's compressed size")
    if start < 4 or end > data_end:
        raise MalformedParquet(f"column {_name(path)}'s pages lie outside the file's data")
    at, decompressed, values = start, 0, 0
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
            if kind == _DICTIONARY_PAGE and rows is not None and counted > rows:
                raise MalformedParquet(f"column {_name(path)}'s dictionary has more values than its row group rows")
            values += counted if kind != _DICTIONARY_PAGE else 0
            if kind == _DATA_PAGE_V2:
                _count(declared.get(2, 0), "a page's count of nulls")
                _count(declared.get(3, 0), "a page's count of rows")
        at += compressed
        pages += 1
        if rows is not None and values > rows:
            raise MalformedParquet(f"column {_name(path)}'s pages declare more values than its row group has rows")
    if at > end:
        raise MalformedParquet(f"a page of column {_name(path)} runs past its column chunk")
    return decompressed, pages


def _flat_columns(schema: list) -> set[tuple[bytes, ...]]:
    """The paths of the columns with one value a row (not repeated), where the schema is flat (every element but
    the root a column, as in every vendor format); none where it nests (its columns are then not bounded by rows)."""
    columns = schema[1:]
    if any(element.get(5) for element in columns):
        return set()
    return {(element.get(4, b""),) for element in columns if element.get(3) != _REPEATED}


def _count(value, what: str) -> int:
    if not isinstance(value, int) or value < 0:
        raise MalformedParquet(f"{what} is {value}, below zero" if isinstance(value, int) else f"{what} is no number")
    return value


def _name(path) -> str:
    return ".".join(p.decode("utf-8", "replace") for p in path) or "?"
