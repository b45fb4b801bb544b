#!/usr/bin/python3
"""Dumps the virtual disk of a VHD (or a differencing chain) to a raw file with libvhdi.

Usage: /usr/bin/python3 pyvhdi_read_vhd.py OUT.raw TOP.vhd [PARENT.vhd [GRANDPARENT.vhd ...]]

The files after OUT are the chain from the top (the file to read) down to the base. libvhdi
does not follow parent locators itself: each child is linked to the next file with set_parent(),
which also checks the child's Parent Unique Id against the parent. Prints the media size and
disk type of the top file as JSON on stdout.

Reads in 64 KiB chunks (bounded memory). Larger reads are NOT safe: libvhdi 20210425 returns
zeros for some allocated blocks when one read_buffer_at_offset() call spans several blocks of
a dynamic VHD (seen with 2 and 4 MiB reads over 512 KiB blocks; reads within one block are
correct). 64 KiB stays inside one block for every block size of 64 KiB and up.
"""
import json
import sys

import pyvhdi

CHUNK = 64 * 1024


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
        with open(out_path, "wb") as out:
            offset = 0
            while offset < size:
                n = min(CHUNK, size - offset)
                data = top.read_buffer_at_offset(n, offset)
                if len(data) != n:
                    raise RuntimeError(f"short read at {offset}: {len(data)} of {n} bytes")
                out.write(data)
                offset += n
        print(json.dumps({"media_size": size, "disk_type": top.disk_type}))
        return 0
    finally:
        for f in reversed(files):
            f.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
