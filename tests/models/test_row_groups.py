"""Where a kept run of KV cells may end: on a row group after the fixed prefix."""

from models.greedy import ROW_GROUP, on_row_group


def test_cells_kept_after_the_prefix_are_whole_row_groups() -> None:
    assert ROW_GROUP % 4 == 0  # llama.cpp's repacked x86 kernels take rows four at a time
    assert on_row_group(2119 + 27, 2119) == 2119 + 24
    assert on_row_group(2119 + 8, 2119) == 2119 + 8
    assert on_row_group(2119 + 7, 2119) == 2119
    # Up to the prefix, or without one, nothing is cut.
    assert on_row_group(2000, 2119) == 2000
    assert on_row_group(2119, 2119) == 2119
    assert on_row_group(13, 0) == 8
