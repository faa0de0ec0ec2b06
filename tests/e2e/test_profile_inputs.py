"""Every profile shape `run --format` writes is read back by the commands that
take a profile (issue 8).

The static sample's profile is written as docker, oci and k8s (the YAML
resource and the plain JSON beside it). Then:
  - `verify --profile F` and `check --profile F` exit 0 for the OCI JSON, the
    k8s YAML, a runtime-spec config.json holding the OCI object and the
    resource as `kubectl get -o json` prints it;
  - `diff` finds no difference between the Docker JSON and the k8s YAML (the
    same run's and a separate docker run's) nor the OCI JSON;
  - `run --template` takes the k8s YAML;
  - a malformed YAML (a tab for indentation, an anchor, a second document), a
    SeccompProfile of the wrong kind and a config.json without linux.seccomp
    each give one "sctrace: error:" line naming the file and exit 2.
"""
import json
import os

import sctrace_e2e as e2e

c = e2e.Checks("profile_inputs")
EXE = e2e.sample("static_basic")
OK = "static_basic: ok"


def one_line_error(res, what, mentions):
    lines = res.stderr_lines()
    c.check(res.returncode == 2 and len(lines) == 1 and lines[0].startswith("sctrace: error: "),
            f"{what}: exit 2 with one 'sctrace: error:' line", res.describe())
    c.check(all(m in res.stderr for m in mentions), f"{what}: the error names {mentions}", res.describe())


def no_difference(old, new, label):
    r = e2e.sctrace("diff", "--json", old, new)
    d = None
    try:
        d = json.loads(r.stdout)
    except ValueError:
        pass
    empty = d is not None and not any(d.get(k) for k in ("arches_added", "arches_removed", "added", "removed",
                                                          "widened", "narrowed"))
    c.check(r.returncode == 0 and empty, f"diff {label}: no difference, exit 0", r.describe())


with e2e.tempdir("profile-inputs") as tmp:
    path = {}
    for fmt, name in (("docker", "p.docker.json"), ("oci", "p.oci.json"), ("k8s", "p.k8s.yaml")):
        path[fmt] = os.path.join(tmp, name)
        r = e2e.sctrace("run", "--format", fmt, "-o", path[fmt], "--", EXE)
        if not c.check(r.returncode == 0 and os.path.exists(path[fmt]), f"run --format {fmt} writes {name}",
                       r.describe()):
            c.finish()
    k8s_plain = os.path.join(tmp, "p.k8s.json")
    with open(path["k8s"]) as f:
        yaml_text = f.read()
    c.check(yaml_text.lstrip().startswith("#") and "kind: SeccompProfile" in yaml_text,
            "the k8s output is the YAML resource", yaml_text[:400])

    # The same OCI object inside a runtime-spec config.json, and the resource
    # as the API server returns it (SPO's errnoRet is a string).
    oci = e2e.load_json(path["oci"])
    config = os.path.join(tmp, "config.json")
    with open(config, "w") as f:
        json.dump({"ociVersion": "1.0.2", "process": {"args": [EXE]}, "root": {"path": "rootfs"},
                   "linux": {"namespaces": [{"type": "mount"}], "seccomp": oci}}, f, indent=2)
    spec = {k: v for k, v in oci.items() if k != "defaultErrnoRet"}
    spec["syscalls"] = [dict(r, **({"errnoRet": str(r["errnoRet"])} if "errnoRet" in r else {}))
                        for r in spec.get("syscalls", [])]
    k8s_json = os.path.join(tmp, "p.k8s-api.json")
    with open(k8s_json, "w") as f:
        json.dump({"apiVersion": "security-profiles-operator.x-k8s.io/v1beta1", "kind": "SeccompProfile",
                   "metadata": {"name": "p", "namespace": "default", "generation": 1},
                   "spec": spec, "status": {"status": "Installed"}}, f, indent=4)

    for label, prof in (("oci", path["oci"]), ("k8s yaml", path["k8s"]), ("config.json", config),
                        ("k8s json", k8s_json)):
        r = e2e.sctrace("verify", "--profile", prof, "--", EXE)
        c.check(r.returncode == 0 and OK in r.stdout and "sctrace: denied:" not in r.stderr,
                f"verify --profile ({label}): exit 0, the sample runs", r.describe())
        r = e2e.sctrace("check", "--profile", prof, "--", EXE)
        c.check(r.returncode == 0, f"check --profile ({label}): exit 0", r.describe())

    no_difference(k8s_plain, path["k8s"], "k8s plain JSON -> k8s YAML (same run)")
    no_difference(path["docker"], path["k8s"], "docker JSON -> k8s YAML")
    no_difference(path["k8s"], path["docker"], "k8s YAML -> docker JSON")
    no_difference(path["docker"], path["oci"], "docker JSON -> OCI JSON")

    # A template in YAML: what the k8s profile allows is all `run` may keep.
    again = os.path.join(tmp, "again.json")
    r = e2e.sctrace("run", "--template", path["k8s"], "-o", again, "--", EXE)
    c.check(r.returncode == 0 and os.path.exists(again), "run --template k8s.yaml", r.describe())

    # Malformed inputs: one line, exit 2, the file and the line named.
    lines = yaml_text.splitlines()
    spec_at = next(i for i, l in enumerate(lines) if l.startswith("spec:"))
    bad = {
        "tab.yaml": ("\n".join(lines[:spec_at + 1] + ["\t" + lines[spec_at + 1].lstrip()] + lines[spec_at + 2:]),
                     [f"line {spec_at + 2}", "tab"]),
        "anchor.yaml": (yaml_text.replace("kind: SeccompProfile", "kind: &k SeccompProfile"), ["anchors"]),
        "two.yaml": (yaml_text + "---\n" + yaml_text, ["several YAML documents"]),
        "pod.yaml": ("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n", ["expected a SeccompProfile"]),
        "truncated.yaml": (yaml_text[:yaml_text.index('"SCMP_ACT_ALLOW"') + 6], ["unterminated"]),
        "config-none.json": (json.dumps({"ociVersion": "1.0.2", "linux": {}}), ["without linux.seccomp"]),
    }
    for name, (text, mentions) in bad.items():
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(text)
        one_line_error(e2e.sctrace("verify", "--profile", p, "--", EXE), f"verify --profile {name}", [p] + mentions)
    tab = os.path.join(tmp, "tab.yaml")
    one_line_error(e2e.sctrace("check", "--profile", tab, "--", EXE), "check --profile tab.yaml", [tab])
    one_line_error(e2e.sctrace("diff", path["docker"], tab), "diff docker.json tab.yaml", [tab])

c.finish()
