#!/usr/bin/env python3
"""Generate one JSON Schema (draft 2020-12) per OCSF class glassbox emits,
from the official compiled OCSF schema export.

  python3 schemas/ocsf/generate.py [--official schema-1.8.0.json] [--out DIR]

Each schema pins class_uid/category_uid, lists every class attribute
(profile attributes included, so events declaring the profile validate),
with its type, its enum values, the required attributes of the class and of
every nested object, and the at_least_one / just_one constraints (anyOf /
oneOf).  Objects are expanded into $defs up to MAX_DEPTH levels below the
event; deeper objects are plain {"type": "object"}.  Unknown attributes are
rejected (additionalProperties: false) in every expanded object.  Also writes
ocsf-<version>-subset.json: the official definitions (types, categories,
profiles, our classes, all objects) without prose, which
tests/ocsf_validate.py uses by default.  Output is deterministic (sorted
keys) so regenerating shows real schema changes only.
"""
import argparse
import json
import os

try:
    import jsonschema
except ImportError:  # generation does not need it; the check is a bonus
    jsonschema = None

CLASSES = [  # (class name in the export, file stem)
    ("network_activity", "network_activity"),
    ("http_activity", "http_activity"),
    ("process_activity", "process_activity"),
    ("detection_finding", "detection_finding"),
    ("device_config_state_change", "device_config_state_change"),
    ("application_lifecycle", "application_lifecycle"),
    ("event_log_actvity", "event_log_activity"),  # sic: the export's key
    ("api_activity", "api_activity"),  # inference.local requests (ai_operation)
]
MAX_DEPTH = 4
INT_TYPES = {"integer_t", "long_t", "timestamp_t", "port_t"}


class Gen:
    def __init__(self, s):
        self.s = s
        self.types = s["types"]
        self.objects = s["objects"]

    def base(self, t):
        n = 0
        while t in self.types and self.types[t].get("type") and n < 5:
            t = self.types[t]["type"]
            n += 1
        return t

    def prim(self, t, attr):
        b = self.base(t)
        if t in INT_TYPES or b in INT_TYPES:
            out = {"type": "integer"}
            rng = self.types[t].get("range")
            if rng:
                out["minimum"], out["maximum"] = rng
        elif b == "float_t":
            out = {"type": "number"}
        elif b == "boolean_t":
            out = {"type": "boolean"}
        elif b == "string_t":
            out = {"type": "string"}
            if self.types[t].get("max_len"):
                out["maxLength"] = self.types[t]["max_len"]
        else:  # json_t
            out = {}
        enum = attr.get("enum")
        if enum:
            vals = []
            for k in enum:
                try:
                    vals.append(int(k) if out.get("type") == "integer" else k)
                except ValueError:
                    vals.append(k)
            out["enum"] = sorted(vals, key=lambda v: (str(type(v)), v))
        return out

    def attr_schema(self, attr, depth, defs, queue):
        t = attr.get("type")
        if t in self.types:
            one = self.prim(t, attr)
        else:
            oname = attr.get("object_type") or t
            if depth + 1 > MAX_DEPTH or oname not in self.objects:
                one = {"type": "object"}
            else:
                if oname not in defs:
                    defs[oname] = None  # reserved; filled from the queue
                    queue.append((oname, depth + 1))
                one = {"$ref": f"#/$defs/{oname}"}
        if attr.get("caption"):
            one = dict(one, title=attr["caption"])
        if attr.get("is_array"):
            return {"type": "array", "items": one}
        return one

    def body(self, attrs, constraints, depth, defs, queue, top=False):
        props, req = {}, []
        for k in sorted(attrs):
            a = attrs[k]
            if top and k == "unmapped":
                props[k] = {"type": "object", "minProperties": 1}
                continue
            props[k] = self.attr_schema(a, depth, defs, queue)
            if a.get("requirement") == "required" and not a.get("profile"):
                req.append(k)
        out = {"type": "object", "properties": props, "additionalProperties": False}
        if req:
            out["required"] = req
        for kind, names in sorted((constraints or {}).items()):
            alts = [{"required": [n]} for n in names]
            if kind == "at_least_one":
                out.setdefault("allOf", []).append({"anyOf": alts})
            elif kind == "just_one":
                out.setdefault("allOf", []).append({"oneOf": alts})
        return out

    def class_schema(self, name, version):
        c = self.s["classes"][name]
        defs, queue = {}, []
        sch = self.body(c["attributes"], c.get("constraints"), 0, defs, queue, top=True)
        while queue:
            oname, d = queue.pop(0)
            o = self.objects[oname]
            defs[oname] = self.body(o["attributes"], o.get("constraints"), d, defs, queue)
            defs[oname]["title"] = o.get("caption", oname)
        props = sch["properties"]
        props["class_uid"] = {"const": c["uid"]}
        cat = self.s["categories"][c["category"]]
        props["category_uid"] = {"const": cat["uid"]}
        props["category_name"] = {"const": cat["caption"]}
        props["class_name"] = {"const": c["caption"]}
        tenum = c["attributes"]["type_uid"].get("enum") or {}
        props["type_uid"] = {"type": "integer", "enum": sorted(int(k) for k in tenum)}
        props["type_name"] = {"type": "string", "enum": sorted({v["caption"] for v in tenum.values()})}
        md = defs.get("metadata")
        if md:
            md["properties"]["version"] = {"const": version}
        out = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://glassbox.invalid/schemas/ocsf/{version}/{name}.schema.json",
            "title": f"OCSF {version} {c['caption']} ({c['uid']}) as emitted by glassbox",
        }
        out.update(sch)
        out["$defs"] = {k: defs[k] for k in sorted(defs)}
        return out


def strip(o):
    """Drop descriptions, notes and null members (not used by validation)."""
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items()
                if k not in ("description", "notes", "references") and v is not None}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o


def write_json(path, obj, indent):
    """Writes obj sorted, to a temporary file renamed over path (a reader never sees half a file)."""
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    # The shared folder sits beside the checkout: <repo>/../shared.
    shared = os.path.join(here, "..", "..", "..", "shared", "ocsf", "schema-1.8.0.json")
    ap.add_argument("--official", default=os.environ.get("GB_OCSF_SCHEMA", os.path.normpath(shared)))
    ap.add_argument("--out", default=here)
    a = ap.parse_args()
    with open(a.official) as f:
        s = json.load(f)
    g = Gen(s)
    for name, stem in CLASSES:
        sch = g.class_schema(name, s["version"])
        if jsonschema:
            jsonschema.Draft202012Validator.check_schema(sch)
        path = os.path.join(a.out, f"{stem}.schema.json")
        write_json(path, sch, indent=1)
        print(f"{path}: {len(sch['$defs'])} objects")
    # The official definitions the validator checks against, cut to what
    # our classes can reach and without prose, so the repository is
    # self-contained (the full export is 4 MB).
    sub = strip({
        "version": s["version"],
        "types": s["types"],
        "categories": s["categories"],
        "profiles": {k: {"name": v.get("name"), "caption": v.get("caption")} for k, v in s["profiles"].items()},
        "classes": {name: s["classes"][name] for name, _ in CLASSES},
        "objects": s["objects"],
    })
    path = os.path.join(a.out, f"ocsf-{s['version']}-subset.json")
    write_json(path, sub, indent=0)
    print(f"{path}: official definitions of {len(CLASSES)} classes, {len(sub['objects'])} objects")
    with open(os.path.join(a.out, "VERSION"), "w") as f:
        f.write(s["version"] + "\n")


if __name__ == "__main__":
    main()
