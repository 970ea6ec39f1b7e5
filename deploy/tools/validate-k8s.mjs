#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
//
// Offline validation of Kubernetes manifests, as an API server would see them:
//   node deploy/tools/validate-k8s.mjs FILE.yaml...
//
// 1. Every YAML document is parsed (multi-document files; a YAML error fails the file).
// 2. Each object is checked against the Kubernetes API schema of its apiVersion and kind,
//    bundled by kubernetes-models (the OpenAPI definitions of Kubernetes 1.27 compiled into
//    ajv validators): wrong types, missing required fields, bad enum values are refused.
//    An apiVersion/kind the schema does not know is refused too.
// 3. What the server (or the kubelet) refuses although the schema lets it through, across the
//    set of files given: a workload whose selector does not match its pod labels, a container
//    without image, a ConfigMap volume naming no ConfigMap of the set, a Service selecting no
//    pod of the set or naming a container port they do not have, a probe on a port name the
//    container does not declare, a StatefulSet whose serviceName is no headless Service of the
//    set, a namespaced object in a namespace the set does not create.
//
// Prints one line per object ("ok FILE Kind/name" or "FAIL FILE Kind/name: why") and exits 0
// when everything is valid, 1 when something is not, 2 on a usage error. Needs no network:
// deploy/tools/node_modules comes from `npm ci` (scripts/install-deps.sh runs it).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const NAMESPACED = new Set(["ConfigMap", "Deployment", "StatefulSet", "Service", "DaemonSet",
    "Secret", "ServiceAccount", "PersistentVolumeClaim", "Pod", "PodDisruptionBudget",
    "NetworkPolicy", "Role", "RoleBinding"]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

// The kubernetes-models class of an apiVersion/kind, or null when the schema has none.
function modelOf(apiVersion, kind) {
    if (typeof apiVersion !== "string" || typeof kind !== "string" ||
        !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
        return null;
    try {
        return require(`kubernetes-models/${apiVersion}/${kind}`)[kind] || null;
    } catch {
        return null;
    }
}

function schemaErrors(obj) {
    const Model = modelOf(obj.apiVersion, obj.kind);
    if (!Model)
        return [`unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`];
    try {
        new Model(obj).validate();
        return [];
    } catch (e) {
        if (!Array.isArray(e.errors))
            return [String(e.message || e)];
        return e.errors.map((x) => `${x.instancePath || "/"} ${x.message}` +
            (x.params && x.params.allowedValues ? ` (${x.params.allowedValues.join(", ")})` : ""));
    }
}

// Read every document of every file: [{file, obj}]; YAML errors go to errs.
function load(files, errs) {
    const out = [];
    for (const file of files) {
        let text;
        try {
            text = readFileSync(file, "utf8");
        } catch (e) {
            errs.push(`${file}: ${e.message}`);
            continue;
        }
        parseAllDocuments(text).forEach((doc, i) => {
            if (doc.errors && doc.errors.length) {
                errs.push(`${file}: document ${i + 1}: ${doc.errors[0].message}`);
                return;
            }
            const obj = doc.toJS();
            if (obj === null || obj === undefined)
                return;  // an empty document (a trailing ---)
            if (typeof obj !== "object" || Array.isArray(obj))
                errs.push(`${file}: document ${i + 1} is not an object`);
            else
                out.push({ file, obj });
        });
    }
    return out;
}

const labelsMatch = (sel, labels) =>
    !!sel && Object.keys(sel).length > 0 &&
    Object.entries(sel).every(([k, v]) => labels && labels[k] === v);
const podSpec = (o) => o.spec && o.spec.template && o.spec.template.spec;
const containersOf = (o) => {
    const ps = podSpec(o) || {};
    return [...(ps.initContainers || []), ...(ps.containers || [])];
};
const portNames = (o) => new Set(containersOf(o).flatMap((c) => (c.ports || [])
    .filter((p) => p.name).map((p) => p.name)));

function checkWorkload(o, set, why) {
    const ps = podSpec(o);
    if (!ps)
        return;
    const sel = o.spec.selector && o.spec.selector.matchLabels;
    const labels = o.spec.template.metadata && o.spec.template.metadata.labels;
    if (!labelsMatch(sel, labels))
        why.push("spec.selector.matchLabels does not match spec.template.metadata.labels");
    for (const c of containersOf(o)) {
        if (!c.image)
            why.push(`container ${c.name} has no image`);
        const names = new Set((c.ports || []).filter((p) => p.name).map((p) => p.name));
        for (const pr of ["livenessProbe", "readinessProbe", "startupProbe"]) {
            const port = c[pr] && (c[pr].httpGet || c[pr].tcpSocket || {}).port;
            if (typeof port === "string" && !names.has(port))
                why.push(`container ${c.name}: ${pr} port "${port}" is not one of its ports`);
        }
    }
    for (const v of ps.volumes || []) {
        if (v.configMap && !set.some((x) => x.kind === "ConfigMap" &&
            x.metadata.name === v.configMap.name && x.metadata.namespace === o.metadata.namespace))
            why.push(`volume ${v.name}: ConfigMap ${v.configMap.name} is not in the set`);
    }
    if (o.kind === "StatefulSet" && !set.some((x) => x.kind === "Service" &&
        x.metadata.name === o.spec.serviceName && x.spec && x.spec.clusterIP === "None"))
        why.push(`serviceName ${o.spec.serviceName} is no headless Service of the set`);
}

function checkService(o, set, why) {
    const sel = o.spec && o.spec.selector;
    if (!sel)
        return;  // a Service without selector has its endpoints made by hand
    const pods = set.filter((x) => WORKLOADS.has(x.kind) && podSpec(x) &&
        x.metadata.namespace === o.metadata.namespace &&
        labelsMatch(sel, x.spec.template.metadata && x.spec.template.metadata.labels));
    if (pods.length === 0) {
        why.push("its selector matches no workload of the set");
        return;
    }
    for (const p of o.spec.ports || []) {
        if (typeof p.targetPort === "string" && !pods.every((x) => portNames(x).has(p.targetPort)))
            why.push(`port ${p.name}: targetPort "${p.targetPort}" is not a container port`);
    }
}

function main(argv) {
    if (argv.length === 0) {
        console.error("usage: validate-k8s.mjs FILE.yaml...");
        return 2;
    }
    const errs = [];
    const docs = load(argv, errs);
    const set = docs.map((d) => d.obj);
    const namespaces = new Set(set.filter((o) => o.kind === "Namespace" && o.metadata)
        .map((o) => o.metadata.name));
    for (const { file, obj } of docs) {
        const name = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
        const why = schemaErrors(obj);
        if (why.length === 0) {
            if (NAMESPACED.has(obj.kind) && !namespaces.has(obj.metadata.namespace))
                why.push(`namespace ${obj.metadata.namespace} is not created by the set`);
            if (WORKLOADS.has(obj.kind))
                checkWorkload(obj, set, why);
            if (obj.kind === "Service")
                checkService(obj, set, why);
        }
        if (why.length)
            errs.push(`FAIL ${file} ${name}: ${why.join("; ")}`);
        else
            console.log(`ok ${file} ${name}`);
    }
    for (const e of errs)
        console.log(e.startsWith("FAIL ") ? e : `FAIL ${e}`);
    console.log(`${docs.length} objects, ${errs.length} invalid`);
    return errs.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
