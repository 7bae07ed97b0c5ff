#!/usr/bin/python3
"""Writes fields.json beside this file: for every object in deploy/kserve/*.yaml, the field
names KServe's CRD schema allows there (and the type or enum of every value we set), read from
a KServe checkout; metadata's from Kubernetes' ObjectMeta; the annotation keys from KServe's
constants. test/server/deploy.test.ts checks the manifests against it, since KServe cannot be
reached at test time. A field the manifests start using needs a rerun (the test says which).

    git clone --branch v0.20.0 https://github.com/kserve/kserve /tmp/kserve
    git clone --branch v0.36.3 https://github.com/kubernetes/apimachinery /tmp/apimachinery
    /usr/bin/python3 test/server/kserve/extract.py /tmp/kserve v0.20.0 /tmp/apimachinery v0.36.3

Needs python3-yaml. Only the paths the manifests use are written, each with its full field list.
"""

import json
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
CRDS = {
    "ServingRuntime": "config/crd/full/serving.kserve.io_servingruntimes.yaml",
    "InferenceService": "config/crd/full/serving.kserve.io_inferenceservices.yaml",
}
MANIFESTS = ["deploy/kserve/servingruntime.yaml", "deploy/kserve/inferenceservice.yaml"]
# The annotation keys KServe reads, by their Go constant names (pkg/constants/constants.go).
ANNOTATION_CONSTANTS = ["EnableMetricAggregation", "SetPrometheusAnnotation", "KserveContainerPrometheusPortKey", "KServeContainerPrometheusPathKey"]


def commit(checkout):
    return subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None


def object_meta_fields(apimachinery):
    src = open(os.path.join(apimachinery, "pkg/apis/meta/v1/types.go")).read()
    body = re.search(r"^type ObjectMeta struct \{(.*?)^\}", src, re.S | re.M).group(1)
    return sorted(re.findall(r'^\s*[A-Z]\w*\s+[^\n/]*?`json:"(\w+)', body, re.M))


def annotation_keys(kserve):
    src = open(os.path.join(kserve, "pkg/constants/constants.go")).read()
    group = re.search(r'KServeAPIGroupName\s*=\s*"([^"]+)"', src).group(1)
    keys = []
    for name in ANNOTATION_CONSTANTS:
        expr = re.search(r"\b" + name + r"\s*=\s*([^\n]+)", src).group(1).strip()
        keys.append("".join(group if part.strip() == "KServeAPIGroupName" else json.loads(part.strip()) for part in expr.split("+")))
    return sorted(keys)


def walk(value, schema, path, out, meta_fields):
    """Records the schema's fields at each object the manifest has, and each set value's type."""
    if isinstance(value, dict):
        if path == "metadata":
            out["fields"][path] = meta_fields
            for k in value:
                if k in ("labels", "annotations"):  # map[string]string
                    out["fields"][f"{path}.{k}"] = "map"
                    out["values"][f"{path}.{k}.*"] = {"type": "string"}
                elif k in ("name", "namespace", "generateName"):  # string
                    out["values"][f"{path}.{k}"] = {"type": "string"}
            return
        if "properties" in schema:
            out["fields"][path] = sorted(schema["properties"])
            for k, v in value.items():
                if k in schema["properties"]:
                    walk(v, schema["properties"][k], f"{path}.{k}" if path else k, out, meta_fields)
        elif "additionalProperties" in schema:
            out["fields"][path] = "map"
            for k, v in value.items():
                walk(v, schema["additionalProperties"], f"{path}.*", out, meta_fields)
    elif isinstance(value, list):
        for v in value:
            walk(v, schema.get("items", {}), f"{path}[]", out, meta_fields)
    else:
        leaf = {k: schema[k] for k in ("type", "enum", "x-kubernetes-int-or-string") if k in schema}
        out["values"][path] = leaf


def main():
    kserve, kserve_tag, apimachinery, apimachinery_tag = sys.argv[1:5]
    meta = object_meta_fields(apimachinery)
    result = {
        "source": {
            "kserve": {"repo": "kserve/kserve", "tag": kserve_tag, "commit": commit(kserve), "files": sorted(CRDS.values()) + ["pkg/constants/constants.go"]},
            "kubernetes": {"repo": "kubernetes/apimachinery", "tag": apimachinery_tag, "commit": commit(apimachinery), "files": ["pkg/apis/meta/v1/types.go (ObjectMeta)"]},
            "generated_by": "test/server/kserve/extract.py",
        },
        "annotations": annotation_keys(kserve),
    }
    for manifest in MANIFESTS:
        doc = yaml.safe_load(open(os.path.join(ROOT, manifest)))
        crd = yaml.safe_load(open(os.path.join(kserve, CRDS[doc["kind"]])))
        version = doc["apiVersion"].split("/")[1]
        (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
        out = {"apiVersion": doc["apiVersion"], "fields": {}, "values": {}}
        walk(doc, v["schema"]["openAPIV3Schema"], "", out, meta)
        result[doc["kind"]] = out
    with open(os.path.join(HERE, "fields.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
