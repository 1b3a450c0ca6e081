import Foundation

/// Builds test images with Python (tarfile, hashlib, gzip, json): three layers with whiteouts and
/// an opaque directory, written as an OCI image layout (a nested index listing arm64 and amd64)
/// or as an old-style `docker save` archive. `variant` bends one thing to test a failure.
///
/// `format` "oci" writes `DIRECTORY/layout`, "docker-save" writes `DIRECTORY/image.tar`. The
/// amd64 config sets Entrypoint `/bin/tool`, Cmd `--serve`, Env `PATH=/usr/bin:/bin` and
/// `MODE=test`, WorkingDir `/opt` and User `1000:1000`. Variants: "zstd" and "unknown" (a layer
/// media type Coffer does not read), "tampered" (a layer blob altered after hashing), "arm-only",
/// and "link-out" (docker-save: a layer that is a symlink to a host file).
public enum OCIImageFixture {
    public static func make(in directory: String, format: String, variant: String = "plain") throws {
        let result = try run("python3", ["-c", script, directory, format, variant], directory: directory)
        guard result.status == 0 else { throw TestFailure("making the OCI fixture failed: \(result.stderr)") }
    }

    /// An OCI image layout at `DIRECTORY/layout` with one uncompressed layer, `tarball`, and a
    /// config giving `entrypoint` and `cmd`: the smallest image `coffer build --oci` reads.
    public static func layout(in directory: String, layer tarball: String, entrypoint: [String], cmd: [String] = []) throws {
        let config = try String(decoding: JSONSerialization.data(withJSONObject: ["Entrypoint": entrypoint, "Cmd": cmd]), as: UTF8.self)
        let result = try run("python3", ["-c", oneLayerScript, directory + "/layout", tarball, config], directory: directory)
        guard result.status == 0 else { throw TestFailure("making the OCI layout failed: \(result.stderr)") }
    }

    private static let oneLayerScript = #"""
import hashlib, json, os, sys
root, tarball, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
os.makedirs(root + "/blobs/sha256", exist_ok=True)
def put(blob, media):
    h = hashlib.sha256(blob).hexdigest(); open(root + "/blobs/sha256/" + h, "wb").write(blob)
    return {"mediaType": media, "digest": "sha256:" + h, "size": len(blob)}
layer = open(tarball, "rb").read()
cfg = {"architecture": "amd64", "os": "linux", "config": config,
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": put(json.dumps(cfg).encode(), "application/vnd.oci.image.config.v1+json"),
     "layers": [put(layer, "application/vnd.oci.image.layer.v1.tar")]}
desc = put(json.dumps(m).encode(), "application/vnd.oci.image.manifest.v1+json")
desc["platform"] = {"os": "linux", "architecture": "amd64"}
json.dump({"schemaVersion": 2, "manifests": [desc]}, open(root + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(root + "/oci-layout", "w"))
"""#

    /// What every well-formed variant unpacks to.
    public static let expectedFiles: [String: String] = [
        "etc/a": "a2", "etc/c": "c3", "opt/keep/x": "x1", "opt/old/new": "new2", "opt/old/later": "later2",
        "usr/bin/sh": "sh1", "usr/bin/tool": "tool3",
    ]
    public static let absentPaths = ["etc/b", "opt/old/y", "usr/lib", "etc/.wh.b", "opt/old/.wh..wh..opq", "usr/.wh.lib"]

    private static let script = #"""
import tarfile, io, json, hashlib, gzip, os, sys
out, fmt, variant = sys.argv[1], sys.argv[2], sys.argv[3]
REG, DIR, SYM = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE

def layer(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in members:
            i = tarfile.TarInfo(name); i.type = kind; i.mtime = 1700000000
            i.mode = 0o755 if kind == DIR else 0o644
            if kind == SYM: i.linkname = data; data = b""
            i.size = len(data) if kind == REG else 0
            t.addfile(i, io.BytesIO(data) if kind == REG else None)
    return buf.getvalue()

layers = [
    layer([("etc", DIR, b""), ("etc/a", REG, b"a1"), ("etc/b", REG, b"b1"),
           ("opt/keep/x", REG, b"x1"), ("opt/old/y", REG, b"y1"), ("opt/old/sub/z", REG, b"z1"),
           ("usr/lib/lib1", REG, b"lib1"), ("usr/bin/sh", REG, b"sh1"), ("bin", SYM, "usr/bin")]),
    # The opaque marker comes after a file this layer adds to the same directory: that file stays.
    layer([("etc/.wh.b", REG, b""), ("opt/old/new", REG, b"new2"), ("opt/old/.wh..wh..opq", REG, b""),
           ("opt/old/later", REG, b"later2"), ("etc/a", REG, b"a2")]),
    layer([("usr/.wh.lib", REG, b""), ("bin/tool", REG, b"tool3"), ("etc/c", REG, b"c3")]),
]
config = {"architecture": "amd64", "os": "linux",
          "config": {"Entrypoint": ["/bin/tool"], "Cmd": ["--serve"], "Env": ["PATH=/usr/bin:/bin", "MODE=test"],
                     "WorkingDir": "/opt", "User": "1000:1000"},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}

def sha(b): return hashlib.sha256(b).hexdigest()

if fmt == "docker-save":
    os.makedirs(out + "/save", exist_ok=True)
    cfg = json.dumps(config).encode()
    names = []
    for n, raw in enumerate(layers):
        os.makedirs(out + "/save/l%d" % n, exist_ok=True)
        open(out + "/save/l%d/layer.tar" % n, "wb").write(raw); names.append("l%d/layer.tar" % n)
    if variant == "link-out":
        os.remove(out + "/save/l1/layer.tar"); os.symlink("/etc/passwd", out + "/save/l1/layer.tar")
    open(out + "/save/%s.json" % sha(cfg), "wb").write(cfg)
    json.dump([{"Config": sha(cfg) + ".json", "RepoTags": ["demo:1"], "Layers": names}], open(out + "/save/manifest.json", "w"))
    with tarfile.open(out + "/image.tar", "w") as t:
        for name in sorted(os.listdir(out + "/save")): t.add(out + "/save/" + name, arcname=name)
    sys.exit(0)

root = out + "/layout"
os.makedirs(root + "/blobs/sha256", exist_ok=True)
def put(blob, media):
    h = sha(blob); open(root + "/blobs/sha256/" + h, "wb").write(blob)
    return {"mediaType": media, "digest": "sha256:" + h, "size": len(blob)}

types = ["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.v1.tar",
         "application/vnd.oci.image.layer.v1.tar+gzip"]
blobs = [layers[0], layers[1], gzip.compress(layers[2], mtime=0)]
if variant == "zstd": types[2] = "application/vnd.oci.image.layer.v1.tar+zstd"
if variant == "unknown": types[1] = "application/vnd.example.layer.v1.squashfs"
layer_descs = [put(b, t) for b, t in zip(blobs, types)]
if variant == "tampered":
    path = root + "/blobs/sha256/" + layer_descs[1]["digest"][7:]
    data = bytearray(open(path, "rb").read()); data[600] ^= 1; open(path, "wb").write(bytes(data))

def manifest(cfg, lays):
    c = put(json.dumps(cfg).encode(), "application/vnd.oci.image.config.v1+json")
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c, "layers": lays}
    return put(json.dumps(m).encode(), "application/vnd.oci.image.manifest.v1+json")

amd = manifest(config, layer_descs); amd["platform"] = {"os": "linux", "architecture": "amd64"}
arm_cfg = dict(config, architecture="arm64", config={"Entrypoint": ["/arm"]})
arm = manifest(arm_cfg, [layer_descs[0]]); arm["platform"] = {"os": "linux", "architecture": "arm64", "variant": "v8"}
entries = [arm] if variant == "arm-only" else [arm, amd]
nested = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}).encode(),
             "application/vnd.oci.image.index.v1+json")
json.dump({"schemaVersion": 2, "manifests": [nested]}, open(root + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(root + "/oci-layout", "w"))
"""#
}
