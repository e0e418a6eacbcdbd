import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { deflateRawSync } from "node:zlib";
import { downloadDataset, downloadSpec } from "../../src/data/download.js";
import { DataError } from "../../src/data/errors.js";
import { readZip } from "../../src/data/zip.js";
import { tempDir, writeFiles } from "./helpers.js";

/** A minimal ZIP writer (deflate), enough to test the reader. */
function makeZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = deflateRawSync(Buffer.from(text));
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(text.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(text.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

test("readZip reads deflated entries and rejects non-ZIP files", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "a.zip": makeZip({ "ml/u.data": "1\t2\t3\t4\n", "ml/u.item": "x" }),
    "b.zip": "nope",
  });
  const z = await readZip(join(d, "a.zip"));
  assert.equal(z.get("ml/u.data")?.toString(), "1\t2\t3\t4\n");
  await assert.rejects(readZip(join(d, "b.zip")), DataError);
});

test("download: fetch, verify the published MD5, unpack, write SHA256SUMS", async () => {
  const zip = makeZip({ "ml-100k/u.data": "1\t1\t5\t1\n", "ml-100k/u.item": "1|T|||u|0\n" });
  const md5 = createHash("md5").update(zip).digest("hex");
  const server = createServer((req, res) => {
    if (req.url === "/ml.zip") res.end(zip);
    else if (req.url === "/ml.zip.md5") res.end(`${md5}  ml.zip\n`);
    else if (req.url === "/bad.zip.md5") res.end(`${"0".repeat(32)}  bad.zip\n`);
    else if (req.url === "/bad.zip") res.end(zip);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const d = await tempDir();
    const spec = {
      name: "ml",
      description: "test",
      files: [{ url: `${base}/ml.zip`, md5Url: `${base}/ml.zip.md5`, unzip: true }],
      expect: ["u.data", "u.item"],
      source: "movielens-100k",
    };
    const r = await downloadSpec(spec, d, { quiet: true });
    assert.equal(await readFile(join(d, "ml", "u.data"), "utf8"), "1\t1\t5\t1\n");
    assert.match(
      await readFile(join(d, "ml", "SHA256SUMS"), "utf8"),
      /^[0-9a-f]{64} {2}ml\.zip\n$/,
    );
    assert.equal(r.files.length, 2);
    await assert.rejects(
      downloadSpec(
        {
          ...spec,
          name: "bad",
          files: [{ url: `${base}/bad.zip`, md5Url: `${base}/bad.zip.md5`, unzip: true }],
        },
        d,
        {
          quiet: true,
        },
      ),
      /checksum mismatch/,
    );
  } finally {
    server.close();
  }
});

test("download: unknown names and an unreachable host fail fast with instructions", async () => {
  await assert.rejects(downloadDataset("nope", "/tmp"), /unknown dataset "nope"/);
  await assert.rejects(downloadDataset("amazon", "/tmp"), /needs --category/);
  const d = await tempDir();
  const spec = {
    name: "x",
    description: "x",
    files: [{ url: "http://127.0.0.1:9/x.zip", unzip: true }],
    expect: ["u.data"],
    source: "movielens-100k",
  };
  const t0 = Date.now();
  await assert.rejects(downloadSpec(spec, d, { quiet: true, timeoutMs: 2000 }), (e: unknown) => {
    assert.ok(e instanceof DataError);
    assert.match(
      e.message,
      /cannot download x: .*\n.*by hand[\s\S]*put u\.data into .*x\/, then run:/,
    );
    return true;
  });
  assert.ok(Date.now() - t0 < 5000);
});
