#!/usr/bin/env python3
"""A persons file for `jumys import persons`: N rows, one in a hundred bad (a wrong IIN check digit, no last
name, an unknown district, an unknown category, in turn), every good row with a valid, distinct IIN in one of
the shipped districts. The same seed writes the same file.

    python3 bench/persons_csv.py 100000 persons.csv [--seed 7]
"""
import csv, os, random, sys

def check_digit(d):
    s = sum(x * (i + 1) for i, x in enumerate(d)) % 11
    if s == 10:
        w = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
        s = sum(x * w[i] for i, x in enumerate(d)) % 11
        if s == 10:
            return None
    return s

def iin(year, month, day, male, serial):
    century = (3 if male else 4) if year < 2000 else (5 if male else 6)
    yy = year % 100
    d = [yy // 10, yy % 10, month // 10, month % 10, day // 10, day % 10, century] + [int(c) for c in f"{serial:04d}"]
    c = check_digit(d)
    return None if c is None else "".join(map(str, d)) + str(c)

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    rng = random.Random(seed)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "Sources", "JumysStore", "Reference", "districts.csv"), encoding="utf-8") as f:
        katos = [r["kato"] for r in csv.DictReader(f)]
    last = ["Ахметов", "Серікова", "Иванова", "Жұмабаев", "Нұрланова", "Ким", "Сейітқали", "Оспанов", "Әбенова", "Петров"]
    first = ["Ерлан", "Айгерім", "Дана", "Нұрсұлтан", "Мария", "Асқар", "Әсем", "Бауыржан", "Ольга", "Тимур"]
    cats = ["unemployed", "job_seeker", "low_income", "school_leaver", "self_employed"]
    seen = set()
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(["iin", "last_name", "first_name", "middle_name", "district", "rural", "phone", "categories", "consent"])
        for k in range(n):
            while True:
                i = iin(rng.randint(1960, 2005), rng.randint(1, 12), rng.randint(1, 28), rng.random() < 0.5, rng.randint(0, 9999))
                if i and i not in seen:
                    seen.add(i)
                    break
            row = [i, rng.choice(last), rng.choice(first), "", rng.choice(katos), rng.choice(["yes", "no"]),
                   f"+7 7{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}", rng.choice(cats), "yes"]
            if k % 100 == 99:
                kind = (k // 100) % 4
                if kind == 0: row[0] = i[:11] + str((int(i[11]) + 1) % 10)
                elif kind == 1: row[1] = ""
                elif kind == 2: row[4] = "999999999"
                else: row[7] = "jobless"
            w.writerow(row)

if __name__ == "__main__":
    main()
