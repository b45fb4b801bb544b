#!/usr/bin/python3
"""Dumps the virtual disk of a VHDX (or a differencing chain) to a raw file with libvhdi.

Usage: /usr/bin/python3 pyvhdi_dump.py OUT.raw TOP.vhdx [PARENT.vhdx [GRANDPARENT.vhdx ...]]

The files after OUT are the chain from the top (the file to read) down to the base, in order.
libvhdi does not follow parent locators itself: each child is linked to the next file with
set_parent(), which also checks the child's parent_linkage against the parent's DataWriteGuid.
Prints the top file's media size, disk type, bytes per sector and identifiers as JSON on
stdout. Reads in 4 MiB chunks (bounded memory) and writes a sparse file: all-zero chunks are
skipped and the size is set at the end, so a large sparse disk costs no space.

Runs only under Debian's /usr/bin/python3: python3-libvhdi is built for it.
"""
import json
import sys

import pyvhdi

CHUNK = 4 * 1024 * 1024


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out_path, chain_paths = argv[1], argv[2:]
    files = []
    try:
        for p in chain_paths:
            f = pyvhdi.file()
            f.open(p)
            files.append(f)
        # Link from the base upwards so every parent is complete when its child is linked.
        for i in range(len(files) - 2, -1, -1):
            files[i].set_parent(files[i + 1])
        top = files[0]
        size = top.get_media_size()
        zero = bytes(CHUNK)
        with open(out_path, "wb") as out:
            offset = 0
            while offset < size:
                n = min(CHUNK, size - offset)
                data = top.read_buffer_at_offset(n, offset)
                if len(data) != n:
                    raise RuntimeError(f"short read at {offset}: {len(data)} of {n} bytes")
                if data != zero[:n]:
                    out.seek(offset)
                    out.write(data)
                offset += n
            out.truncate(size)
        info = {
            "media_size": size,
            "disk_type": top.disk_type,
            "bytes_per_sector": top.bytes_per_sector,
            "identifier": str(top.identifier),
        }
        try:
            info["parent_identifier"] = str(top.parent_identifier) if top.parent_identifier else None
        except (IOError, OSError):
            info["parent_identifier"] = None
        print(json.dumps(info))
        return 0
    finally:
        for f in reversed(files):
            f.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
