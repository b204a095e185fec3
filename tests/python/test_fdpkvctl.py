# SPDX-License-Identifier: GPL-2.0
"""fdpkvctl on the host, without an NVMe device: argument handling (usage and
a non-zero exit on bad arguments), --help of every subcommand, -o json
output that parses, clean one-line failures on files that are not NVMe
devices, and a man page that documents every subcommand. The device paths
are exercised in the VM (tests/vm/scripts/fdpkvctl_test.sh)."""
import json
import os
import pathlib
import re
import shutil
import struct
import subprocess
import time

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
CTL = TOP / "build" / "bin" / "fdpkvctl"
MAN = TOP / "tools" / "fdpkvctl.8"

DEV_CMDS = ["info", "ruh-status", "stats", "events"]
NVME_CMDS = ["list", "info", "ruh-status", "ruh-update", "stats", "events", "provision"]
CACHE_CMDS = ["format", "fsck", "dump", "bench"]
MODULE_CMDS = ["attach", "detach", "grants"]
ALL_CMDS = NVME_CMDS + CACHE_CMDS + MODULE_CMDS


@pytest.fixture(scope="module", autouse=True)
def built():
    r = subprocess.run(["make", "-s", "-C", str(TOP), "tools"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert CTL.exists()


def ctl(*args):
    return subprocess.run([str(CTL), *map(str, args)], capture_output=True, text=True, timeout=30)


@pytest.fixture
def regular(tmp_path):
    p = tmp_path / "not-a-device.img"
    p.write_bytes(b"\0" * 8192)
    return p


def test_no_arguments_prints_usage_and_fails():
    r = ctl()
    assert r.returncode == 1
    assert r.stderr.startswith("usage: fdpkvctl <command>")
    for c in ALL_CMDS:
        assert c in r.stderr


def test_unknown_command_fails():
    r = ctl("frobnicate")
    assert r.returncode == 1
    assert "unknown command 'frobnicate'" in r.stderr
    assert "usage:" in r.stderr


def test_help_and_version():
    r = ctl("help")
    assert r.returncode == 0 and "provision" in r.stdout
    r = ctl("version")
    assert r.returncode == 0 and r.stdout.startswith("fdpkvctl ")


@pytest.mark.parametrize("cmd", ALL_CMDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_subcommand_has_help(cmd, flag):
    r = ctl(cmd, flag)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: fdpkvctl %s" % cmd)
    assert "-o, --output-format=FMT" in r.stdout
    assert "-h, --help" in r.stdout
    assert r.stderr == ""


@pytest.mark.parametrize("cmd", ALL_CMDS)
def test_unknown_option_prints_usage(cmd):
    r = ctl(cmd, "--no-such-option")
    assert r.returncode == 1
    assert "unknown option '--no-such-option'" in r.stderr
    assert "usage: fdpkvctl %s" % cmd in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("cmd", DEV_CMDS + ["ruh-update", "provision", "attach", "detach"] +
                         CACHE_CMDS)
def test_missing_device_prints_usage(cmd):
    r = ctl(cmd)
    assert r.returncode == 1
    assert "missing" in r.stderr and "usage: fdpkvctl %s" % cmd in r.stderr


@pytest.mark.parametrize("cmd", DEV_CMDS)
def test_bad_output_format(cmd, regular):
    r = ctl(cmd, regular, "-o", "xml")
    assert r.returncode == 1
    assert "invalid output format 'xml'" in r.stderr
    assert "usage:" in r.stderr


@pytest.mark.parametrize("args", [["grants"], ["attach", "/dev/nvme0n1"], ["detach", "0"]])
def test_module_commands_bad_output_format(args):
    r = ctl(*args, "-o", "xml")
    assert r.returncode == 1 and r.stdout == ""
    assert "invalid output format 'xml'" in r.stderr
    assert "usage: fdpkvctl %s" % args[0] in r.stderr


@pytest.mark.parametrize("args, why", [
    (["share", "1"], "give either --handle or --extent"),
    (["share", "1", "--handle", "1", "--extent", "0+8"], "give either --handle or --extent"),
    (["share", "1", "--handle", "zz"], "--handle: 'zz' is not a list of placement ids"),
    (["share", "1", "--extent", "8"], "--extent: '8' is not SLBA+NLB"),
    (["share", "1", "--extent", "8+0"], "--extent: '8+0' is not SLBA+NLB"),
    (["share", "x", "--handle", "1"], "NS: 'x' is not a namespace number"),
    (["detach", "70000"], "NS: '70000' is not a namespace number"),
])
def test_module_commands_check_arguments_before_opening(args, why):
    # the command line is judged first: its error, not "is fdpkv.ko loaded?"
    r = ctl(*args)
    assert r.returncode == 1 and r.stdout == ""
    assert why in r.stderr
    assert "open:" not in r.stderr


def test_extra_argument_rejected(regular):
    r = ctl("info", regular, "extra")
    assert r.returncode == 1
    assert "unexpected argument 'extra'" in r.stderr


@pytest.mark.parametrize("args, why", [
    (["ruh-update", "X"], "--pid is required"),
    (["ruh-update", "X", "--pid", "1,x"], "--pid needs"),
    (["ruh-update", "X", "--pid", "70000"], "--pid needs"),
    (["provision", "X", "--handles", "4"], "--size is required"),
    (["provision", "X", "--size", "1G"], "--handles must be"),
    (["provision", "X", "--size", "1G", "--handles", "129"], "--handles must be"),
    (["provision", "X", "--size", "12Q", "--handles", "1"], "invalid value '12Q' for --size"),
    (["events", "X", "--host", "--controller"], "are exclusive"),
    (["events", "X", "--enable", "--types", "300"], "--types needs"),
])
def test_bad_values_print_usage(args, why):
    r = ctl(*args)
    assert r.returncode == 1
    assert why in r.stderr
    assert "usage: fdpkvctl %s" % args[0] in r.stderr


@pytest.mark.parametrize("args", [[c] for c in DEV_CMDS] +
                         [["ruh-update", "--pid", "0"],
                          ["provision", "--size", "1G", "--handles", "2", "--force"]])
def test_regular_file_fails_with_one_line(args, regular):
    r = ctl(args[0], regular, *args[1:])
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines == ["fdpkvctl %s: %s: not an NVMe device (a regular file)" % (args[0], regular)]
    assert r.stdout == ""


@pytest.mark.parametrize("cmd", DEV_CMDS)
def test_regular_file_json_error_parses(cmd, regular):
    r = ctl(cmd, regular, "-o", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["error"]["command"] == cmd
    assert doc["error"]["device"] == str(regular)
    assert "not an NVMe device" in doc["error"]["message"]


def test_missing_file_names_errno(tmp_path):
    p = tmp_path / "nope"
    r = ctl("info", p)
    assert r.returncode == 1
    assert r.stderr.strip() == "fdpkvctl info: %s: cannot open: No such file or directory" % p


def test_dev_null_is_not_nvme():
    r = ctl("ruh-status", "/dev/null")
    assert r.returncode == 1
    assert "not an NVMe device" in r.stderr


def test_directory_is_not_nvme(tmp_path):
    r = ctl("stats", tmp_path)
    assert r.returncode == 1
    assert "not an NVMe device (a directory)" in r.stderr


def test_list_json_parses():
    r = ctl("list", "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert isinstance(doc["namespaces"], list)
    for ns in doc["namespaces"]:
        for k in ("device", "generic", "nsid", "fdp_supported", "fdp_enabled",
                  "fdp_config_index", "lba_size", "nsze", "capacity_bytes", "cache", "error"):
            assert k in ns


def test_list_empty_sysfs(tmp_path):
    (tmp_path / "sda").mkdir()
    (tmp_path / "nvme0c0n1").mkdir()	# a hidden multipath path: skipped
    r = ctl("list", "--sysfs", tmp_path, "-o", "json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"namespaces": []}
    r = ctl("list", "--sysfs", tmp_path)
    assert r.returncode == 0 and "no NVMe namespaces found" in r.stdout


def test_list_lists_unreadable_namespace(tmp_path):
    # a name that looks like a namespace but whose /dev node is missing
    (tmp_path / "nvme97n3").mkdir()
    r = ctl("list", "--sysfs", tmp_path, "-o", "json")
    assert r.returncode == 0
    ns = json.loads(r.stdout)["namespaces"]
    assert len(ns) == 1 and ns[0]["device"] == "/dev/nvme97n3"
    assert ns[0]["fdp_supported"] is None and ns[0]["cache"] == "unknown"
    assert "cannot open" in ns[0]["error"]


def test_list_bad_sysfs_fails(tmp_path):
    r = ctl("list", "--sysfs", tmp_path / "missing", "-o", "json")
    assert r.returncode == 1
    assert "No such file or directory" in json.loads(r.stdout)["error"]["message"]


def test_man_page_documents_every_subcommand_and_renders():
    text = MAN.read_text()
    for c in ALL_CMDS:
        assert "\\fB%s\\fR" % c.replace("-", "\\-") in text or ".B %s" % c.replace("-", "\\-") in text, c
    for field in ("ruamw_bytes", "ru_pct", "hbmw", "mbmw", "mbe", "waf", "type_name",
                  "fdp_enabled", "nruh", "runs", "outcome", "steps"):
        assert field.replace("_", "_") in text, field
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr


# --- cache commands on the file backend ------------------------------------------


def test_format_fsck_dump_bench_roundtrip(tmp_path):
    uri = "file:%s" % (tmp_path / "cache.img")
    r = ctl("format", uri, "--capacity", "64M", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["result"] == "formatted" and doc["objects"] == 0
    assert doc["segments_total"] == doc["segments_free"] > 0
    for k in ("uri", "devices", "bytes_capacity", "bytes_used", "index_entries", "classes",
              "corrupt_objects", "io_errors"):
        assert k in doc

    r = ctl("format", uri, "--capacity", "64M")
    assert r.returncode == 1
    assert "holds an fdpkv cache; pass --force" in r.stderr

    r = ctl("bench", uri, "-w", "fill", "-n", "20", "-b", "4", "-s", "64K", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    b = json.loads(r.stdout)
    assert b["bytes_written"] == 20 * 4 * 65536 and b["errors"] == 0
    assert set(b["latency_us"]) == {"set", "get"} and b["latency_us"]["get"] is None
    assert set(b["latency_us"]["set"]) == {"batches", "p50", "p90", "p99", "p999", "max"}
    assert b["latency_us"]["set"]["batches"] == 20 and b["sets"] == 80
    assert b["waf"] is None  # the file backend does not model media writes

    r = ctl("fsck", uri, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    f = json.loads(r.stdout)
    assert f["result"] == "clean" and f["objects_live"] == 80 and f["damage"] == 0
    assert f["bytes_live"] == 80 * 65536 and f["damages"] == []

    r = ctl("dump", uri, "-o", "json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert len(d["keys"]) == 80 and not d["truncated"]
    assert d["keys"][0] == {"key": "fdpkvctl-bench-0000000000", "key_len": 25, "value_len": 65536}

    r = ctl("bench", uri, "-w", "read", "-n", "10", "-b", "4", "-s", "64K", "-k", "80", "-o", "json")
    b = json.loads(r.stdout)
    assert r.returncode == 0 and b["hits"] == 40 and b["misses"] == 0

    r = ctl("format", uri, "--capacity", "64M", "--force", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["objects"] == 0


def test_format_auto_and_bare_path_resolve_to_file(tmp_path):
    """auto:PATH and a bare path name the backend libfdpkv picks: file: for a
    regular file (bdev:, fdpkv:, ng: need devices; the VM plan lib_bdev)."""
    img = tmp_path / "cache.img"
    r = ctl("format", "auto:%s" % img, "--capacity", "16M", "--segment-size", "1M", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["devices"][0]["uri"] == "file:%s" % img
    r = ctl("format", str(img), "--force", "--capacity", "16M", "--segment-size", "1M")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^    opened as    : file:%s$" % re.escape(str(img)), r.stdout, re.M)


def test_format_bdev_refuses_a_regular_file(tmp_path):
    img = tmp_path / "cache.img"
    img.write_bytes(b"\0" * (1 << 20))
    r = ctl("format", "bdev:%s" % img, "--force")
    assert r.returncode == 1
    assert "not a block device" in r.stderr and len(r.stderr.splitlines()) == 1


def test_format_reports_classes_folded_onto_one_handle():
    """sim with 4 handles and 2 + 8 classes: the 8 data classes fold onto the 2
    data handles; format says so per class, in JSON, and warns once."""
    r = ctl("format", "sim:handles=4", "--set", "capacity=64M segment_size=1M max_classes=8",
            "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    d = doc["devices"][0]
    assert d["fdp"] is True and d["placement_handles"] == 4
    assert d["shared_handles"] == 2 and d["shared_classes"] == 8 and doc["shared_classes"] == 8
    assert [c["shared_with"] for c in doc["classes"]] == [0, 0] + [3] * 8
    assert {c["placement_id"] for c in doc["classes"][2:]} == {2, 3}
    warnings = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 1, r.stderr
    assert ("fdpkvctl format: warning: sim:handles=4: 8 of 10 placement classes share 2 "
            "placement handles (the device has 4)") in warnings[0]
    assert "max_classes=2" in warnings[0]

    r = ctl("format", "sim:handles=4", "--set", "capacity=64M segment_size=1M max_classes=8")
    assert r.returncode == 0, r.stderr
    assert "4 handles, 8 of 10 classes share 2 of them" in r.stdout
    assert "class 4        : placement id 2, shared with 3 other classes" in r.stdout
    assert "class 1        : placement id 1\n" in r.stdout
    assert r.stderr.count("warning") == 1


def test_format_no_warning_when_every_class_has_a_handle(tmp_path):
    r = ctl("format", "sim:handles=16", "--set", "capacity=64M segment_size=1M max_classes=8",
            "-o", "json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    doc = json.loads(r.stdout)
    assert doc["shared_classes"] == 0 and doc["devices"][0]["placement_handles"] == 16
    assert all(c["shared_with"] == 0 for c in doc["classes"])
    # file: has no placement at all: one stream, nothing "shared", no warning
    uri = "file:%s" % (tmp_path / "cache.img")
    r = ctl("format", uri, "--capacity", "16M", "--segment-size", "1M", "-o", "json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    doc = json.loads(r.stdout)
    assert doc["devices"][0]["fdp"] is False and doc["shared_classes"] == 0
    assert "placement    : none (no FDP)" in ctl("format", uri, "--capacity", "16M",
                                                 "--segment-size", "1M", "--force").stdout


def test_bench_sim_reports_waf():
    r = ctl("bench", "sim:", "--set", "capacity=32M segment_size=1M", "-w", "fill", "-n", "200",
            "-b", "2", "-s", "64K", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    b = json.loads(r.stdout)
    assert b["waf"] is not None and b["waf"] >= 1.0


BENCH_FIELDS = {"uri", "workload", "threads", "qd", "batch", "batches", "max_batches", "duration",
                "size_dist", "size_min", "size_max", "value_size", "keys", "read_pct", "prefill",
                "seconds", "sets", "gets", "bytes_written", "bytes_read", "bytes", "mib_per_s",
                "batches_per_s", "keys_per_s", "hits", "misses", "hit_ratio", "errors",
                "evicted_objects", "evicted_segments", "latency_us", "usage", "host_bytes",
                "media_bytes", "fdp_stats", "waf", "waf_source", "csv"}


@pytest.fixture(params=["file-auto", "file", "sim"])
def bench_uri(request, tmp_path):
    """One cache URI per backend ("file-auto": a file that bench formats, format=auto)."""
    if request.param == "sim":
        return ["sim:", "--set", "capacity=32M segment_size=1M"]
    if request.param == "file-auto":
        return ["file:%s" % (tmp_path / "auto.img"), "--set", "capacity=32M segment_size=1M"]
    uri = "file:%s" % (tmp_path / "cache.img")
    assert ctl("format", uri, "--capacity", "32M", "--segment-size", "1M").returncode == 0
    return [uri]


def bench(uri, *args):
    r = ctl("bench", *uri, "-o", "json", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def check_lat(lat, batches=None):
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert lat["p50"] > 0
    if batches is not None:
        assert lat["batches"] == batches


def test_bench_mixed_fields_and_latency_per_op(bench_uri):
    b = bench(bench_uri, "-w", "mixed", "-n", "200", "-b", "4", "-s", "16K", "-k", "64",
              "-r", "50")
    assert set(b) == BENCH_FIELDS
    assert b["batches"] == 200 and b["errors"] == 0 and b["threads"] == 1
    assert b["size_dist"] == "fixed" and b["size_min"] == b["size_max"] == 16384
    s, g = b["latency_us"]["set"], b["latency_us"]["get"]
    assert s and g and s["batches"] + g["batches"] == 200 and s["batches"] > 0 and g["batches"] > 0
    check_lat(s)
    check_lat(g)
    assert b["sets"] == 4 * s["batches"] and b["gets"] == 4 * g["batches"]
    assert b["hits"] + b["misses"] == b["gets"] and b["hits"] > 0
    assert b["hit_ratio"] == pytest.approx(b["hits"] / b["gets"], abs=1e-4)
    assert b["bytes"] == b["bytes_written"] + b["bytes_read"]
    assert b["bytes_written"] == 16384 * b["sets"] and b["bytes_read"] == 16384 * b["hits"]
    assert b["mib_per_s"] > 0 and b["evicted_objects"] >= 0 and b["evicted_segments"] >= 0
    assert b["usage"]["bytes_capacity"] > 0 and b["usage"]["objects"] > 0
    assert b["prefill"] is None and b["fdp_stats"] is None and b["csv"] is None
    if bench_uri[0] == "sim:":
        assert b["waf_source"] == "sim" and b["waf"] >= 1.0
    else:
        assert b["waf"] is None and b["waf_source"] is None


def test_bench_uniform_sizes_threads_and_evictions(bench_uri):
    # 2 threads, each with qd 2; values 4K..64K; 3x the capacity written: evictions
    b = bench(bench_uri, "-w", "fill", "-n", "800", "-b", "4", "--size-dist", "uniform:4K-64K",
              "--threads", "2", "-q", "2", "-k", "100000")
    assert b["threads"] == 2 and b["qd"] == 2 and b["batches"] == 800 and b["errors"] == 0
    assert b["size_dist"] == "uniform" and (b["size_min"], b["size_max"]) == (4096, 65536)
    assert 4096 * 3200 < b["bytes_written"] < 65536 * 3200
    assert b["evicted_objects"] > 0 and b["evicted_segments"] > 0
    check_lat(b["latency_us"]["set"], 800)
    # --size MIN-MAX is the same distribution; the gets find the sizes the sets stored
    b = bench(bench_uri, "-w", "mixed", "-n", "300", "-b", "2", "-s", "4K-64K", "-k", "50",
              "-t", "2")
    assert b["size_dist"] == "uniform" and b["errors"] == 0 and b["hits"] > 0


def test_bench_duration_stops_near_the_time(bench_uri):
    t = time.monotonic()
    b = bench(bench_uri, "-w", "mixed", "--duration", "2", "-b", "2", "-s", "4K", "-k", "1000",
              "-t", "2")
    took = time.monotonic() - t
    assert b["duration"] == 2 and b["max_batches"] is None
    # at least the time asked for, and it stops: the upper bounds leave room
    # for a loaded CI machine, a bench that ignored --duration never ends
    assert 1.9 <= b["seconds"] <= 6.0 and took < 20
    assert b["batches"] > 10 and b["errors"] == 0
    # -n first: stops before the time
    b = bench(bench_uri, "-w", "fill", "-d", "20", "-n", "50", "-b", "2", "-s", "4K")
    assert b["batches"] == 50 and b["seconds"] < 10 and b["max_batches"] == 50


def test_bench_csv_time_series(bench_uri, tmp_path):
    csv = tmp_path / "series.csv"
    b = bench(bench_uri, "-w", "mixed", "-d", "2", "-b", "2", "-s", "8K", "-k", "500",
              "--csv", csv)
    assert b["csv"] == str(csv)
    lines = csv.read_text().splitlines()
    assert lines[0] == ("t,sets,gets,mib_per_s,set_p99_us,get_p99_us,evicted_objects,"
                        "evicted_segments")
    rows = [ln.split(",") for ln in lines[1:]]
    assert len(rows) >= 2 and all(len(r) == 8 for r in rows)
    ts = [float(r[0]) for r in rows]
    assert ts == sorted(ts) and 0.9 <= ts[0] <= 2.5
    assert sum(int(r[1]) for r in rows) == b["sets"] and sum(int(r[2]) for r in rows) == b["gets"]
    assert any(r[4] for r in rows) and all(not r[4] or float(r[4]) > 0 for r in rows)
    # a short run still writes its one (partial) row
    csv2 = tmp_path / "short.csv"
    bench(bench_uri, "-w", "fill", "-n", "5", "-b", "1", "-s", "4K", "--csv", csv2)
    assert len(csv2.read_text().splitlines()) == 2


def test_bench_fill_pct_prefills(bench_uri):
    b = bench(bench_uri, "-w", "read", "--fill-pct", "60", "-n", "50", "-b", "4", "-s", "64K")
    cap = b["usage"]["bytes_capacity"]
    p = b["prefill"]
    assert p["fill_pct"] == 60 and p["keys"] == int(cap * 0.6) // 65536
    assert p["bytes"] == p["keys"] * 65536 and p["seconds"] > 0
    assert 0.5 * cap <= b["usage"]["bytes_used"] <= 0.62 * cap
    assert b["keys"] == p["keys"]			# the key space is what was prefilled
    assert b["hits"] == 200 and b["misses"] == 0 and b["hit_ratio"] == 1.0
    assert b["sets"] == 0 and b["latency_us"]["set"] is None
    check_lat(b["latency_us"]["get"], 50)


def test_bench_text_report(bench_uri):
    r = ctl("bench", *bench_uri, "-w", "mixed", "-n", "40", "-b", "2", "-s", "4K-8K", "-k", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""		# no progress line when stderr is not a tty
    for pat in (r"^threads +: 1 x qd 4$", r"^hit ratio +: [01]\.\d{4}$",
                r"^evictions +: \d+ objects, \d+ segments$",
                r"^latency set +: \d+ batches, p50 \d+ us, p99 \d+ us, p999 \d+ us, max \d+ us$",
                r"^latency get +: \d+ batches, p50 ", r"^device waf +: ",
                r"batches of 2 keys x 4096-8192 bytes \(uniform\)"):
        assert re.search(pat, r.stdout, re.M), pat
    r = ctl("bench", *bench_uri, "-w", "fill", "-n", "5", "-b", "1", "-s", "4K", "-P")
    assert r.returncode == 0		# -P forces the progress line (none in < 1 s)


def test_fsck_without_cache_fails(tmp_path):
    r = ctl("fsck", "file:%s" % (tmp_path / "missing.img"))
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "No such file" in r.stderr
    img = tmp_path / "zero.img"
    img.write_bytes(b"\0" * (1 << 20))
    r = ctl("dump", "file:%s" % img, "-o", "json")
    assert r.returncode == 1
    assert "no fdpkv cache" in json.loads(r.stdout)["error"]["message"]


# --- fsck: damage, detection, repair -------------------------------------------

OBJ_MAGIC = 0x4f564b46
DATA_START = 1 << 20
SEG = 4 << 20
LBA = 4096


def scan_objects(img):
    """Every object header of the image (file backend: 4 KiB LBAs, data at 1 MiB)."""
    data = img.read_bytes()
    objs, off = [], DATA_START
    while off + 64 <= len(data):
        magic, ver, flags, klen = struct.unpack_from("<IHHI", data, off)
        if magic == OBJ_MAGIC and ver == 1 and 0 < klen <= 4096:
            vlen, seq = struct.unpack_from("<QQ", data, off + 16)
            objs.append({"off": off, "seg": (off - DATA_START) // SEG, "klen": klen,
                         "key": data[off + 64:off + 64 + klen].decode(), "seq": seq})
            off += (64 + klen + vlen + LBA - 1) // LBA * LBA
        else:
            off += LBA
    return objs


def flip(img, off, mask=0x10):
    with open(img, "r+b") as f:
        f.seek(off)
        b = f.read(1)[0]
        f.seek(off)
        f.write(bytes([b ^ mask]))


def test_fsck_finds_and_repairs_damage(tmp_path):
    img = tmp_path / "cache.img"
    uri = "file:%s" % img
    assert ctl("format", uri, "--capacity", "64M", "--segment-size", "4M").returncode == 0
    r = ctl("bench", uri, "-w", "fill", "-n", "20", "-b", "4", "-s", "64K", "-F", "never")
    assert r.returncode == 0, r.stdout + r.stderr
    objs = scan_objects(img)
    assert len(objs) == 80
    segs = sorted({o["seg"] for o in objs}, key=lambda s: -sum(o["seg"] == s for o in objs))
    a = sorted((o for o in objs if o["seg"] == segs[0]), key=lambda o: o["off"])
    b = sorted((o for o in objs if o["seg"] == segs[1]), key=lambda o: o["off"])
    assert len(a) == 60 and len(b) == 20
    hdr, val, cut = a[10], a[20], b[5]
    lost = {o["key"] for o in b[6:]}
    flip(img, hdr["off"] + 24)				# header: its seq
    flip(img, val["off"] + 64 + val["klen"] + 1000)		# value
    flip(img, LBA + 100)					# superblock copy 1
    seg_end = DATA_START + (cut["seg"] + 1) * SEG
    zero_from = cut["off"] + 64 + cut["klen"] + 30000
    with open(img, "r+b") as f:				# the segment's tail: zeroes
        f.seek(zero_from)
        f.write(b"\0" * (seg_end - zero_from))
    before = img.read_bytes()

    r = ctl("fsck", uri, "-o", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    f = json.loads(r.stdout)
    assert img.read_bytes() == before, "fsck without --repair wrote"
    assert f["result"] == "damaged" and not f["repair"]
    assert f["superblock_damaged"] == 1 and f["damaged_objects"] == 3
    assert f["truncated_chains"] == 1 and f["io_errors"] == 0
    assert f["damage"] == 4 and f["repaired"] == 0
    assert f["objects_live"] == 80 - 3 - len(lost) and f["segments_used"] == 2
    kinds = {d["kind"]: d for d in f["damages"]}
    assert set(kinds) == {"superblock", "header", "value", "truncated"}
    assert kinds["superblock"]["segment"] is None and kinds["superblock"]["offset"] == LBA
    h = kinds["header"]
    assert h["segment"] == segs[0] and h["key"] is None
    assert DATA_START + h["segment"] * SEG + h["offset"] == hdr["off"]
    assert h["length"] == a[11]["off"] - hdr["off"]
    v = kinds["value"]
    assert v["key"] == val["key"] and DATA_START + v["segment"] * SEG + v["offset"] == val["off"]
    t = kinds["truncated"]
    assert t["key"] == cut["key"] and DATA_START + t["segment"] * SEG + t["offset"] == cut["off"]
    assert all(not d["repaired"] and d["reason"] for d in f["damages"])

    r = ctl("fsck", uri)					# the normal output names them too
    assert r.returncode == 1 and "result           : damaged" in r.stdout
    assert "--repair" in r.stdout and cut["key"] in r.stdout

    r = ctl("fsck", uri, "--repair", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    f = json.loads(r.stdout)
    assert f["result"] == "repaired" and f["repair"] and f["damage"] == f["repaired"] == 4
    assert all(d["repaired"] for d in f["damages"])

    r = ctl("fsck", uri, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    f = json.loads(r.stdout)
    assert f["result"] == "clean" and f["damages"] == []
    assert f["objects_live"] == 80 - 3 - len(lost) and f["objects_filler"] == 3

    r = ctl("dump", uri, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    keys = {k["key"] for k in json.loads(r.stdout)["keys"]}
    want = {o["key"] for o in objs} - {hdr["key"], val["key"], cut["key"]} - lost
    assert keys == want
    r = ctl("bench", uri, "-w", "read", "-n", "40", "-b", "4", "-s", "64K", "-k", "80",
            "-F", "never", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    b = json.loads(r.stdout)
    assert b["errors"] == 0 and b["hits"] > 0 and b["hits"] + b["misses"] == 160
    r = ctl("fsck", uri, "-o", "json")			# reading changed nothing
    assert r.returncode == 0 and json.loads(r.stdout)["objects_live"] == len(want)


def test_fsck_both_superblocks_damaged(tmp_path):
    img = tmp_path / "cache.img"
    uri = "file:%s" % img
    assert ctl("format", uri, "--capacity", "16M").returncode == 0
    flip(img, 100)
    flip(img, LBA + 100)
    r = ctl("fsck", uri, "--repair", "-o", "json")
    assert r.returncode == 1
    f = json.loads(r.stdout)
    assert f["superblock_damaged"] == 2 and f["repaired"] == 0 and f["result"] == "damaged"
    assert "cannot be checked" in f["damages"][0]["reason"]


@pytest.mark.parametrize("args, why", [
    (["bench", "sim:", "-w", "zap"], "--workload must be"),
    (["bench", "sim:", "--qd", "0"], "--qd 1..256"),
    (["bench", "sim:", "--threads", "0"], "--threads 1..64"),
    (["bench", "sim:", "--threads", "65"], "--threads 1..64"),
    (["bench", "sim:", "--fill-pct", "101"], "--fill-pct 0..100"),
    (["bench", "sim:", "--ops", "0"], "--ops >= 1"),
    (["bench", "sim:", "--size-dist", "bogus"], "--size-dist must be fixed or uniform:MIN-MAX"),
    (["bench", "sim:", "--size-dist", "uniform:64K-4K"], "--size-dist must be"),
    (["bench", "sim:", "--size-dist", "uniform:"], "--size-dist must be"),
    (["bench", "sim:", "--size", "4K-"], "--size must be SIZE or MIN-MAX"),
    (["bench", "sim:", "--size", "0"], "--size must be"),
    (["bench", "sim:", "--size-dist", "fixed", "-s", "4K-8K"], "--size-dist fixed takes one"),
    (["bench", "sim:", "--duration", "x"], "--duration"),
    (["format", "file:/x", "--set", "bogus=1"], "unknown configuration key"),
])
def test_cache_bad_values(args, why):
    r = ctl(*args)
    assert r.returncode == 1
    assert why in r.stderr
    if args[0] == "bench":
        assert "usage: fdpkvctl bench URI" in r.stderr


# --- module commands without the module -------------------------------------------

@pytest.mark.skipif(os.path.exists("/dev/fdpkv"), reason="fdpkv.ko is loaded here")
@pytest.mark.parametrize("args", [["grants"], ["attach", "/dev/nvme0n1"], ["detach", "0"]])
def test_module_commands_without_module_say_so(args):
    r = ctl(*args)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == ("fdpkvctl %s: /dev/fdpkv: open: No such file or directory "
                                "(is fdpkv.ko loaded?)" % args[0])
    r = ctl(*args, "-o", "json")
    assert r.returncode == 1
    err = json.loads(r.stdout)["error"]
    assert err["command"] == args[0] and err["device"] == "/dev/fdpkv"
    assert "is fdpkv.ko loaded?" in err["message"]
