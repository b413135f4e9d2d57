#!/usr/bin/env python3
"""The System Jobs console's API at 100,000 system jobs: how long its pages take on SQLite.

Starts `conduit serve` on a fresh data directory, makes one real system job (an endpoint to a queue that does not
exist, a step on Create of contact, one contact), stops the server, copies that job's row N times in the SQLite file
(mostly Succeeded, some Failed, some Waiting until 2100: nothing runs), starts the server again and times the calls
the console makes: the first page, a deep page, status and table filters, a search by record id, and a job's detail.

    swift build -c release --product conduit
    python3 Benchmarks/console_scale.py --conduit .build/release/conduit --jobs 100000
"""
import argparse, json, os, random, sqlite3, statistics, subprocess, tempfile, time, urllib.request, uuid


def start(conduit, data, port=0):
    process = subprocess.Popen(
        [conduit, "serve", "--data-dir", data, "--port", str(port), "--retry-give-up", "0.0005"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    for line in process.stdout:
        if "Web API:" in line:
            url = line.split()[-1].split("api/data")[0]
        if "API key file:" in line:
            break
    if url is None:
        raise SystemExit("conduit serve did not start")
    key = open(os.path.join(data, "admin.key")).read().strip()
    return process, url, key


def call(url, key, path, body=None):
    request = urllib.request.Request(url + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", "Bearer " + key)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as response:
        text = response.read()
        return json.loads(text) if text else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conduit", default=".build/release/conduit", help="the conduit binary")
    parser.add_argument("--jobs", type=int, default=100_000, help="how many system jobs (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each call (median and max shown)")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="conduit-console-scale-")
    process, url, key = start(args.conduit, data)
    try:
        bus = open(os.path.join(data, "bus.connection")).read().strip()
        endpoint = subprocess.run(
            [args.conduit, "endpoint", "add", "--url", url + "api/data/v9.2/", "--key-file",
             os.path.join(data, "admin.key"), "--name", "scale", "--contract", "queue", "--format", "json",
             "--connection-string", bus, "--path", "missing"], check=True, capture_output=True, text=True
        ).stdout.strip()
        call(url, key, "api/console/steps", {"endpointId": endpoint, "message": "Create", "table": "contact"})
        call(url, key, "api/data/v9.2/contacts", {"firstname": "Scale", "lastname": "Test"})
        for _ in range(100):
            if call(url, key, "api/console/jobs")["total"] == 1 and \
                    call(url, key, "api/console/jobs?status=31")["total"] == 1:
                break
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait()

    print(f"seeding {args.jobs} system jobs ...", flush=True)
    started = time.time()
    db = sqlite3.connect(os.path.join(data, "conduit.sqlite"))
    db.row_factory = sqlite3.Row
    template = dict(db.execute("SELECT * FROM asyncoperation").fetchone())
    columns = list(template.keys())
    rng = random.Random(7)
    rows = []
    far = 693_937_632_000_000_000  # 2100-01-01 in .NET ticks
    for index in range(args.jobs):
        row = dict(template)
        row["asyncoperationid"] = str(uuid.UUID(int=rng.getrandbits(128)))
        row["regardingobjectid"] = str(uuid.UUID(int=rng.getrandbits(128)))
        row["sequence"] = template["sequence"] + 1 + index
        row["createdon"] = template["createdon"] + index * 10_000
        draw = rng.random()
        if draw < 0.9:
            row.update(statecode=3, statuscode=30, postponeuntil=None)
        elif draw < 0.98:
            row.update(statecode=3, statuscode=31, postponeuntil=None)
        else:
            row.update(statecode=1, statuscode=10, postponeuntil=far)
        rows.append(tuple(row[c] for c in columns))
    db.executemany(f"INSERT INTO asyncoperation ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    db.commit()
    db.close()
    print(f"seeded in {time.time() - started:.1f} s", flush=True)

    process, url, key = start(args.conduit, data)
    try:
        sample = call(url, key, "api/console/jobs?pageSize=1&page=5000")["jobs"][0]
        cases = [
            ("first page (50, newest first) and counts", "api/console/jobs"),
            ("page 1000 (offset 49,950)", "api/console/jobs?page=1000"),
            ("status Failed, first page", "api/console/jobs?status=31"),
            ("status Waiting + table contact", "api/console/jobs?status=10&table=contact"),
            ("search by regarding record id", "api/console/jobs?search=" + sample["regardingobjectid"]),
            ("created since the 5,000th newest job", "api/console/jobs?since=" + sample["createdon"]),
            ("a job's detail (context decoded)", "api/console/jobs/" + sample["id"]),
        ]
        total = call(url, key, "api/console/jobs")["total"]
        print(f"\n{total} system jobs, {args.runs} runs each (ms): median / max")
        print(f"{'call':45} {'median':>8} {'max':>8}")
        for name, path in cases:
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                call(url, key, path)
                timings.append((time.perf_counter() - started) * 1000)
            print(f"{name:45} {statistics.median(timings):8.1f} {max(timings):8.1f}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
