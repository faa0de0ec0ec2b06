"""An architecture libseccomp does not know is refused wherever a profile is
read (issue 16, defect 11): `verify --profile`, `diff` and `run --template`,
in `architectures` and in `archMap` (its primary and sub-architectures). Each
is one "sctrace: error:" line naming the arch and the file, exit 2, before the
workload runs. The bundled Docker default (which lists SCMP_ARCH_LOONGARCH64,
newer than some libseccomp releases) still loads."""
import copy
import json
import os

import sctrace_e2e as e2e

c = e2e.Checks("unknown_arch")
STATIC = e2e.sample("static_basic")
BOGUS = "SCMP_ARCH_BOGUS"


def one_line_error(res, what, names):
    lines = res.stderr_lines()
    ok = res.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: ")
    c.check(ok, f"{what}: exit 2 with one 'sctrace: error:' line", res.describe())
    c.check(all(n in res.stderr for n in names), f"{what}: the error names {', '.join(names)}", res.describe())


def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


with e2e.tempdir("unknown-arch") as tmp:
    base = e2e.load_json(e2e.template_path())
    out_dir = os.path.join(tmp, "out")
    os.mkdir(out_dir)
    prof = os.path.join(out_dir, "p.json")

    # A profile (run's own output) to compare against and to verify with.
    good = os.path.join(tmp, "good.json")
    r = e2e.sctrace("run", "-o", good, "--recording", os.path.join(tmp, "good.rec.json"), "--", STATIC)
    c.check(r.returncode == 0 and e2e.load_json(good) is not None, "control: a profile from run", r.describe())
    generated = e2e.load_json(good) or {}

    flat = copy.deepcopy(generated)
    flat.pop("archMap", None)
    flat["architectures"] = ["SCMP_ARCH_X86_64", BOGUS]
    in_map = copy.deepcopy(generated)
    in_map.pop("architectures", None)
    in_map["archMap"] = [{"architecture": BOGUS, "subArchitectures": []}]
    in_sub = copy.deepcopy(generated)
    in_sub.pop("architectures", None)
    in_sub["archMap"] = [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", BOGUS]}]
    tmpl_flat = copy.deepcopy(base)
    tmpl_flat.pop("archMap", None)
    tmpl_flat["architectures"] = ["SCMP_ARCH_X86_64", BOGUS]
    tmpl_map = copy.deepcopy(base)
    tmpl_map["archMap"].append({"architecture": BOGUS, "subArchitectures": ["SCMP_ARCH_X86"]})

    cases = [("architectures", flat, tmpl_flat), ("archMap architecture", in_map, tmpl_map),
             ("archMap subArchitectures", in_sub, None)]
    for label, doc, tmpl in cases:
        path = os.path.join(tmp, f"bogus-{label.replace(' ', '-')}.json")
        write(path, doc)
        name = os.path.basename(path)

        r = e2e.sctrace("verify", "--profile", path, "--", STATIC)
        one_line_error(r, f"verify --profile, {BOGUS} in {label}", [BOGUS, name])
        c.check("static_basic: ok" not in r.stdout, f"verify, {label}: refused before the workload ran",
                r.describe())

        r = e2e.sctrace("diff", good, path)
        one_line_error(r, f"diff OLD NEW, {BOGUS} in NEW's {label}", [BOGUS, name])
        r = e2e.sctrace("diff", path, good)
        one_line_error(r, f"diff OLD NEW, {BOGUS} in OLD's {label}", [BOGUS, name])

        tpath = path
        if tmpl is not None:
            tpath = os.path.join(tmp, f"bogus-template-{label.replace(' ', '-')}.json")
            write(tpath, tmpl)
        r = e2e.sctrace("run", "-o", prof, "--template", tpath, "--", STATIC)
        one_line_error(r, f"run --template, {BOGUS} in {label}", [BOGUS, os.path.basename(tpath)])
        c.check("static_basic: ok" not in r.stdout, f"run --template, {label}: refused before the workload ran",
                r.describe())
        c.check(os.listdir(out_dir) == [], f"run --template, {label}: nothing written", str(os.listdir(out_dir)))

    # An arch the bundled Docker default names but libseccomp may not know
    # (SCMP_ARCH_LOONGARCH64) is tolerated only in another arch's archMap
    # entry: the flat list and the native entry are what Docker hands runc.
    loong = "SCMP_ARCH_LOONGARCH64"
    loong_flat = copy.deepcopy(generated)
    loong_flat.pop("archMap", None)
    loong_flat["architectures"] = ["SCMP_ARCH_X86_64", loong]
    loong_sub = copy.deepcopy(generated)
    loong_sub.pop("architectures", None)
    loong_sub["archMap"] = [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", loong]}]
    for label, doc in (("architectures", loong_flat), ("the native archMap entry's subArchitectures", loong_sub)):
        path = os.path.join(tmp, f"loong-{len(label)}.json")
        write(path, doc)
        name = os.path.basename(path)
        r = e2e.sctrace("verify", "--profile", path, "--", STATIC)
        one_line_error(r, f"verify --profile, {loong} in {label}", [loong, name])
        r = e2e.sctrace("diff", good, path)
        one_line_error(r, f"diff OLD NEW, {loong} in NEW's {label}", [loong, name])
        r = e2e.sctrace("run", "-o", prof, "--template", path, "--", STATIC)
        one_line_error(r, f"run --template, {loong} in {label}", [loong, name])
        c.check(os.listdir(out_dir) == [], f"run --template, {loong} in {label}: nothing written",
                str(os.listdir(out_dir)))
    foreign = copy.deepcopy(generated)
    foreign.pop("architectures", None)
    foreign["archMap"] = [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                          {"architecture": loong, "subArchitectures": []}]
    path = os.path.join(tmp, "loong-foreign.json")
    write(path, foreign)
    r = e2e.sctrace("diff", good, path)
    c.check(r.returncode in (0, 1) and "error" not in r.stderr,
            f"control: {loong} in another arch's archMap entry loads", r.describe())

    # Lower-case or otherwise unshaped names were refused before and still are.
    odd = copy.deepcopy(generated)
    odd.pop("archMap", None)
    odd["architectures"] = ["SCMP_ARCH_x86_64"]
    path = os.path.join(tmp, "lower.json")
    write(path, odd)
    r = e2e.sctrace("diff", good, path)
    one_line_error(r, "diff: a lower-case arch name", ["SCMP_ARCH_x86_64", "lower.json"])

    # Every arch libseccomp knows, and the bundled default's archMap, load.
    known = copy.deepcopy(generated)
    known.pop("archMap", None)
    known["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                              "SCMP_ARCH_ARM", "SCMP_ARCH_S390X", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
                              "SCMP_ARCH_MIPSEL64N32"]
    path = os.path.join(tmp, "known.json")
    write(path, known)
    r = e2e.sctrace("diff", good, path)
    c.check(r.returncode in (0, 1) and "error" not in r.stderr, "control: diff with arches libseccomp knows",
            r.describe())
    r = e2e.sctrace("verify", "--profile", good, "--", STATIC)
    c.check(r.returncode == 0, "control: verify of run's own profile", r.describe())
    r = e2e.sctrace("run", "-o", prof, "--template", e2e.template_path(), "--", STATIC)
    c.check(r.returncode == 0 and e2e.load_json(prof) is not None,
            "control: run --template with the bundled Docker default (SCMP_ARCH_LOONGARCH64 in its archMap)",
            r.describe())

c.finish()
