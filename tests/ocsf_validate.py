#!/usr/bin/env python3
"""Validate OCSF event JSON lines two ways:

1. against the official OCSF definitions (schemas/ocsf/ocsf-1.8.0-subset.json,
   cut from the compiled export by generate.py; or the full export named by
   $GB_OCSF_SCHEMA or --official): class membership of every attribute (nested objects
   too), types, enum values and their captions (siblings), required
   attributes, at_least_one / just_one constraints, profiles declared for
   every profile attribute used and every declared profile applicable,
   class/category/type_uid/type_name consistency, no deprecated attribute;
2. against the JSON Schemas generated from it (schemas/ocsf/*.schema.json,
   by schemas/ocsf/generate.py) with python3-jsonschema.

Usage: python3 tests/ocsf_validate.py [--official PATH] [--schemas DIR] FILE.jsonl...
       (FILE may be - for stdin).  Exit 0 when every event passes, 1 when
any fails (each failure printed as FILE:LINE: path: problem), 2 on usage
errors.  Other integration tests call it on the events they produced.
"""
import argparse
import ipaddress
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMAS = os.path.join(HERE, "..", "schemas", "ocsf")
# The official definitions: $GB_OCSF_SCHEMA (e.g. the full compiled export
# schema-1.8.0.json), else the subset generate.py commits next to the schemas.
DEFAULT_OFFICIAL = os.environ.get("GB_OCSF_SCHEMA") or os.path.join(DEFAULT_SCHEMAS, "ocsf-1.8.0-subset.json")

INT_TYPES = {"integer_t", "long_t", "timestamp_t", "port_t"}


class Official:
    def __init__(self, path):
        with open(path) as f:
            self.s = json.load(f)
        self.types = self.s["types"]
        self.objects = self.s["objects"]
        self.by_uid = {c["uid"]: c for c in self.s["classes"].values()}
        self.categories = self.s["categories"]  # by name (class "category")

    def base_type(self, t):
        """string_t / integer_t / ... for a primitive type name."""
        seen = 0
        while t in self.types and self.types[t].get("type") and seen < 5:
            t = self.types[t]["type"]
            seen += 1
        return t

    def check_value(self, errs, path, attr, v, profiles, used):
        t = attr.get("type")
        if attr.get("is_array"):
            if not isinstance(v, list):
                errs.append(f"{path}: expected an array")
                return
            for i, x in enumerate(v):
                self.check_scalar(errs, f"{path}[{i}]", attr, t, x, profiles, used)
        else:
            self.check_scalar(errs, path, attr, t, v, profiles, used)

    def check_scalar(self, errs, path, attr, t, v, profiles, used):
        if t in self.types:
            self.check_primitive(errs, path, t, v)
            enum = attr.get("enum")
            if enum is not None and str(v) not in enum:
                errs.append(f"{path}: {v!r} not in enum {sorted(enum, key=str)}")
            return
        obj = self.objects.get(attr.get("object_type") or t)
        if obj is None:
            errs.append(f"{path}: unknown type {t}")
            return
        if not isinstance(v, dict):
            errs.append(f"{path}: expected an object ({obj['name']})")
            return
        self.check_object(errs, path, obj["attributes"], obj.get("constraints"), v, profiles, used)

    def check_primitive(self, errs, path, t, v):
        b = self.base_type(t)
        if b in INT_TYPES or t in INT_TYPES:
            if not isinstance(v, int) or isinstance(v, bool):
                errs.append(f"{path}: expected an integer, got {v!r}")
                return
            if not -(2**63) <= v < 2**63:
                errs.append(f"{path}: {v} does not fit a signed 64-bit integer")
            rng = self.types[t].get("range")
            if rng and not rng[0] <= v <= rng[1]:
                errs.append(f"{path}: {v} outside {rng}")
        elif b == "float_t":
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                errs.append(f"{path}: expected a number")
        elif b == "boolean_t":
            if not isinstance(v, bool):
                errs.append(f"{path}: expected a boolean")
        elif b == "string_t":
            if not isinstance(v, str):
                errs.append(f"{path}: expected a string, got {v!r}")
                return
            if t == "ip_t":
                try:
                    ipaddress.ip_address(v)
                except ValueError:
                    errs.append(f"{path}: {v!r} is not an IP address")
        elif b == "json_t":
            pass
        else:
            errs.append(f"{path}: unhandled type {t}")

    def check_object(self, errs, path, attrs, constraints, v, profiles, used):
        for k, x in v.items():
            p = f"{path}.{k}" if path else k
            a = attrs.get(k)
            if a is None:
                errs.append(f"{p}: not an attribute of this {'class' if not path else 'object'}")
                continue
            if a.get("@deprecated"):
                errs.append(f"{p}: deprecated since {a['@deprecated'].get('since')}")
            prof = a.get("profile")
            if prof:
                used.add(prof)
                if prof not in profiles:
                    errs.append(f"{p}: belongs to profile {prof!r}, not declared in metadata.profiles")
            if k == "unmapped" and not path:
                if not isinstance(x, dict) or not x:
                    errs.append(f"{p}: unmapped must be a non-empty object when present")
                continue
            self.check_value(errs, p, a, x, profiles, used)
            # enum sibling captions (severity_id -> severity, ...)
            sib = a.get("sibling")
            enum = a.get("enum")
            if sib and enum and sib in v and not a.get("is_array"):
                cap = v[sib]
                want = enum.get(str(x), {}).get("caption")
                if x == 99:
                    if not isinstance(cap, str) or not cap:
                        errs.append(f"{path + '.' if path else ''}{sib}: empty for Other")
                elif cap != want:
                    errs.append(f"{path + '.' if path else ''}{sib}: {cap!r} != caption {want!r} of {k}={x}")
        for k, a in attrs.items():
            if a.get("requirement") == "required" and k not in v:
                prof = a.get("profile")
                if prof and prof not in profiles:
                    continue
                errs.append(f"{path + '.' if path else ''}{k}: required attribute missing")
        for kind, names in (constraints or {}).items():
            present = [n for n in names if n in v]
            if kind == "at_least_one" and not present:
                errs.append(f"{path or 'event'}: needs at least one of {names}")
            if kind == "just_one" and len(present) != 1:
                errs.append(f"{path or 'event'}: needs exactly one of {names}, has {present}")

    def check_event(self, ev):
        errs = []
        if not isinstance(ev, dict):
            return ["event: not a JSON object"]
        cls = self.by_uid.get(ev.get("class_uid"))
        if cls is None:
            return [f"class_uid: unknown class {ev.get('class_uid')!r}"]
        md = ev.get("metadata") if isinstance(ev.get("metadata"), dict) else {}
        profiles = md.get("profiles") or []
        if not isinstance(profiles, list):
            profiles = []
        used = set()
        self.check_object(errs, "", cls["attributes"], cls.get("constraints"), ev, profiles, used)
        # identity of the class
        cat = self.categories.get(cls.get("category"))
        if cat is None:
            errs.append(f"class {cls['name']}: category {cls.get('category')!r} unknown")
        if ev.get("class_name") != cls["caption"]:
            errs.append(f"class_name: {ev.get('class_name')!r} != {cls['caption']!r}")
        if cat and ev.get("category_uid") != cat["uid"]:
            errs.append(f"category_uid: {ev.get('category_uid')!r} != {cat['uid']}")
        if cat and ev.get("category_name") != cat["caption"]:
            errs.append(f"category_name: {ev.get('category_name')!r} != {cat['caption']!r}")
        act = ev.get("activity_id")
        if isinstance(act, int) and ev.get("type_uid") != cls["uid"] * 100 + act:
            errs.append(f"type_uid: {ev.get('type_uid')!r} != class_uid*100+activity_id")
        tenum = cls["attributes"].get("type_uid", {}).get("enum") or {}
        want = tenum.get(str(ev.get("type_uid")), {}).get("caption")
        if want and ev.get("type_name") != want:
            errs.append(f"type_name: {ev.get('type_name')!r} != {want!r}")
        if md.get("version") != self.s.get("version"):
            errs.append(f"metadata.version: {md.get('version')!r} != {self.s.get('version')!r}")
        # profiles: known, applicable, and actually used (no decoration)
        applicable = set(cls.get("profiles") or [])
        for p in profiles:
            if p not in self.s["profiles"]:
                errs.append(f"metadata.profiles: unknown profile {p!r}")
            elif p not in applicable and p not in used:
                errs.append(f"metadata.profiles: {p!r} neither applies to the class nor is used")
        t = ev.get("time")
        if isinstance(t, int) and not 10**12 <= t < 10**14:
            errs.append(f"time: {t} is not epoch milliseconds")
        return errs


def load_jsonschemas(d):
    try:
        import jsonschema
    except ImportError:
        print("ocsf_validate: python3-jsonschema is not installed (scripts/bootstrap)", file=sys.stderr)
        sys.exit(2)
    out = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".schema.json"):
            with open(os.path.join(d, name)) as f:
                sch = json.load(f)
            uid = sch.get("properties", {}).get("class_uid", {}).get("const")
            # (meta-validated by generate.py; checking 1 MB of schema here
            # would cost seconds per run)
            out[uid] = jsonschema.validators.validator_for(sch)(sch)
    if not out:
        print(f"ocsf_validate: no *.schema.json in {d}", file=sys.stderr)
        sys.exit(2)
    return out


def main():
    ap = argparse.ArgumentParser(description="validate OCSF JSON lines")
    ap.add_argument("--official", default=DEFAULT_OFFICIAL)
    ap.add_argument("--schemas", default=DEFAULT_SCHEMAS)
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    try:
        off = Official(a.official)
    except (OSError, ValueError, KeyError) as e:
        print(f"ocsf_validate: cannot load OCSF definitions {a.official}: {e}", file=sys.stderr)
        return 2
    js = load_jsonschemas(a.schemas)
    n = bad = 0
    per_class = {}
    for fn in a.files:
        try:
            f = sys.stdin.buffer if fn == "-" else open(fn, "rb")
        except OSError as e:
            print(f"ocsf_validate: {e}", file=sys.stderr)
            return 2
        with f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    print(f"{fn}:{lineno}: not UTF-8: {e}")
                    n += 1
                    bad += 1
                    continue
                if not line.strip():
                    continue
                n += 1
                try:
                    ev = json.loads(line)
                except ValueError as e:
                    print(f"{fn}:{lineno}: not JSON: {e}")
                    bad += 1
                    continue
                errs = off.check_event(ev)
                v = js.get(ev.get("class_uid")) if isinstance(ev, dict) else None
                if not isinstance(ev, dict):
                    pass  # already reported by check_event
                elif v is None:
                    errs.append(f"no generated JSON Schema for class_uid {ev.get('class_uid')!r}")
                else:
                    for e in v.iter_errors(ev):
                        p = ".".join(str(x) for x in e.absolute_path)
                        errs.append(f"{p or 'event'}: [json-schema] {e.message[:200]}")
                if isinstance(ev, dict):
                    per_class[ev.get("class_uid")] = per_class.get(ev.get("class_uid"), 0) + 1
                if errs:
                    bad += 1
                    for e in errs:
                        print(f"{fn}:{lineno}: {e}")
    if not a.quiet:
        cl = ", ".join(f"{k}:{v}" for k, v in sorted(per_class.items(), key=lambda kv: str(kv[0])))
        print(f"ocsf_validate: {n} events ({cl}), {bad} failed", file=sys.stderr)
    if n == 0:
        print("ocsf_validate: no events", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
