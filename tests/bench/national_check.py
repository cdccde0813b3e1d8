#!/usr/bin/env python3
"""national_check.py — bench-national's outcome checks and figures.

  national_check.py jobs MANIFEST > JOBS
      one line per municipality: KOMMUNE FILE [SECOND_FILE] (paths beside
      the manifest), the municipality's later file last
  national_check.py verify MANIFEST SUBMISSIONS REGISTER
      SUBMISSIONS and REGISTER are psql -qtA outputs (see bench-national).
      Asserts that every file the generator wrote is exactly one submission
      with the status and counts its manifest expects (a first file whose
      municipality sent a second accepted one: superseded by it), that the
      register holds exactly the persons and registrations expected for each
      submission, and that nothing ended failed or rejected unless a FATAL
      fault was injected on purpose. Prints the upload-to-feedback latency
      figures; exits 1 with one line per mismatch (at most 20) otherwise.
  national_check.py pgcpu DATA_DIRECTORY
      CPU seconds (user + system) of the PostgreSQL cluster serving that
      data directory: the postmaster, its live children, and its reaped
      children (cutime/cstime), so backends that have exited still count.

Timing is measured here, never judged: no figure makes the bench fail.
"""
import json
import os
import sys


def load_manifest(path):
    with open(path) as f:
        return json.load(f)


def cmd_jobs(manifest_path):
    m = load_manifest(manifest_path)
    d = os.path.dirname(os.path.abspath(manifest_path))
    by_k = {}
    for f in m["files"]:
        by_k.setdefault(f["kommune"], {})[f["innsending"]] = os.path.join(d, f["file"])
    for k, files in by_k.items():
        print(" ".join([k] + [files[i] for i in sorted(files)]))


def cmd_verify(manifest_path, subs_path, reg_path):
    m = load_manifest(manifest_path)
    files = m["files"]
    problems = []

    def bad(msg):
        problems.append(msg)

    # the expected final status of every file
    want = {}
    second_ok = {f["kommune"] for f in files
                 if f["innsending"] == 2 and f["expect"]["status"] != "rejected"}
    for f in files:
        st = f["expect"]["status"]
        if f["innsending"] == 1 and f["kommune"] in second_ok and st != "rejected":
            st = "superseded"
        want[f["id"]] = (f, st)

    subs = {}
    for line in open(subs_path):
        line = line.rstrip("\n")
        if not line:
            continue
        (sid, innsending_id, kommune, status, persons, regs, p_loaded, r_loaded,
         n_error, n_warning, latency, superseded_by) = line.split("|")
        if innsending_id in subs:
            bad("Innsending %s is more than one submission" % innsending_id)
        subs[innsending_id] = dict(id=sid, kommune=kommune, status=status, persons=persons,
                                   regs=regs, p_loaded=p_loaded, r_loaded=r_loaded,
                                   n_error=n_error, n_warning=n_warning,
                                   latency=float(latency) if latency else None,
                                   superseded_by=superseded_by)
    register = {}
    for line in open(reg_path):
        line = line.rstrip("\n")
        if line:
            sid, p, r = line.split("|")
            register[sid] = (int(p), int(r))
    id_of = {iid: s["id"] for iid, s in subs.items()}

    for iid in subs:
        if iid not in want:
            bad("submission %s (Innsending %s) is no file of the generator's"
                % (subs[iid]["id"], iid))
    statuses = {}
    for iid, (f, st) in want.items():
        name = f["file"]
        s = subs.get(iid)
        if s is None:
            bad("%s: no submission" % name)
            continue
        statuses[s["status"]] = statuses.get(s["status"], 0) + 1
        if s["status"] != st:
            bad("%s: status %s, expected %s" % (name, s["status"], st))
        if s["kommune"] != f["kommune"]:
            bad("%s: kommune %s, expected %s" % (name, s["kommune"], f["kommune"]))
        e = f["expect"]
        p_reg, r_reg = register.get(s["id"], (0, 0))
        if st == "rejected":
            if p_reg or r_reg:
                bad("%s: rejected, but %d persons in the register" % (name, p_reg))
            continue
        for what, got, exp in (("persons", s["persons"], f["persons"]),
                               ("registrations", s["regs"], f["registrations"]),
                               ("persons_loaded", s["p_loaded"], e["persons_loaded"]),
                               ("registrations_loaded", s["r_loaded"], e["registrations_loaded"]),
                               ("register persons", p_reg, e["persons_loaded"]),
                               ("register registrations", r_reg, e["registrations_loaded"])):
            if str(got) != str(exp):
                bad("%s: %s %s, expected %s" % (name, what, got, exp))
        if st == "superseded":
            second = next(g for g in files if g["kommune"] == f["kommune"] and g["innsending"] == 2)
            if s["superseded_by"] != id_of.get(second["id"]):
                bad("%s: superseded by %s, expected its second file's submission %s"
                    % (name, s["superseded_by"] or "nothing", id_of.get(second["id"])))
        if (int(s["n_error"] or 0) > 0) != (e["status"] == "accepted_with_errors"):
            bad("%s: %s errors reported, expected %s" % (name, s["n_error"], e["status"]))
        if e["persons_warning"] and not int(s["n_warning"] or 0):
            bad("%s: no warning reported, %d persons with one injected"
                % (name, e["persons_warning"]))
    extra = set(register) - {s["id"] for s in subs.values()}
    if extra:
        bad("register rows of %d submissions that are none of the bench's" % len(extra))

    if problems:
        for p in problems[:20]:
            print("bench: MISMATCH " + p)
        if len(problems) > 20:
            print("bench: ... and %d more mismatches" % (len(problems) - 20))
        sys.exit(1)

    lat = sorted(s["latency"] for s in subs.values() if s["latency"] is not None)

    def pct(p):
        return lat[max(0, min(len(lat) - 1, -(-p * len(lat) // 100) - 1))]

    t = m["totals"]
    print("checked %d submissions: %s" % (len(subs), ", ".join(
        "%d %s" % (n, k) for k, n in sorted(statuses.items()))))
    print("persons_loaded %d of %d, registrations_loaded %d of %d (exact, per file)" % (
        sum(f["expect"]["persons_loaded"] for f in files), t["persons"],
        sum(f["expect"]["registrations_loaded"] for f in files), t["registrations"]))
    print("latency %.2f %.2f %.2f" % (pct(50), pct(99), lat[-1]))


def cmd_pgcpu(datadir):
    tick = os.sysconf("SC_CLK_TCK")
    datadir = os.path.realpath(datadir)
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17
        procs[int(pid)] = (int(fields[1]), [int(x) for x in fields[11:15]], cmd)
    pm = None
    for pid, (_, _, cmd) in procs.items():
        if os.path.basename(cmd[0].decode(errors="replace")) in ("postgres", "postmaster") \
                and b"-D" in cmd:
            d = cmd[cmd.index(b"-D") + 1].decode(errors="replace") if cmd.index(b"-D") + 1 < len(cmd) else ""
            if os.path.realpath(d) == datadir:
                pm = pid
    if pm is None:
        sys.exit("bench: no postmaster found for %s" % datadir)
    ppid, t, _ = procs[pm]
    total = sum(t)  # own + reaped children
    for pid, (ppid, tc, _) in procs.items():
        if ppid == pm:
            total += tc[0] + tc[1]
    print("%.2f" % (total / tick))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "jobs":
        cmd_jobs(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "verify":
        cmd_verify(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "pgcpu":
        cmd_pgcpu(sys.argv[2])
    else:
        sys.exit(__doc__)
