#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The deployment files (deploy/, issue 8), checked offline; images are not built here.
#   1. Kubernetes: every manifest of deploy/k8s validates against the Kubernetes API schema
#      (deploy/tools/validate-k8s.mjs: kubernetes-models' bundled OpenAPI schemas, no network)
#      plus the set's cross-references; broken copies are refused: a Deployment with
#      replicas: "two", the P-CSCF's container without image, a Service port with protocol
#      "UPD", a YAML syntax error. The set has what issue 8 asks: Namespace, the four
#      ConfigMaps, Deployments for P-CSCF and I-CSCF, StatefulSets for S-CSCF and ims-hss,
#      Services with SIP on UDP and TCP 5060 and Diameter on 3868, liveness on /healthz and
#      readiness on /readyz of port 9101 in every pod, NET_ADMIN for the P-CSCF only.
#   2. Dockerfile: stages and targets consistent (one per daemon, each naming its daemon),
#      every COPY source exists and is not excluded by the .dockerignore, the build stage has
#      the -dev packages of scripts/install-deps.sh, the runtime stage a package for every
#      shared library the built binaries need and no -dev one.
#   3. The entrypoint runs unchanged outside a container: the four daemons of the lab
#      (lib/reg.sh's copy of config/lab on 127.0.1.x) start through deploy/docker/entrypoint.sh,
#      each is the process the entrypoint exec'd (same pid), answers /healthz 200 and /readyz
#      200 on its metrics port, and exits 0 on SIGTERM.
#   4. The ConfigMaps' configurations run: rendered by the entrypoint with POD_IP and the peer
#      addresses of 127.0.1.x, the four daemons start, get ready (Cx open), a handset registers
#      with IMS AKA through them (the P- and S-CSCF journal it where IMS_STORE_DIR says, when
#      the tree has the store), and they stop cleanly. A template naming an unset variable is
#      refused with its file and line.
#   5. systemd units (when systemd-analyze exists): `systemd-analyze verify` says nothing
#      about them (with ExecStart pointed at the build), and does complain about a broken copy.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/reg.sh"
it_init 20500
DEPLOY=$IMS_SOURCE_DIR/deploy
TOOLS=$DEPLOY/tools
ENTRY=$DEPLOY/docker/entrypoint.sh
command -v node >/dev/null || fail "node not found (scripts/install-deps.sh installs nodejs)"
command -v curl >/dev/null || fail "curl not found in PATH"
[ -d "$TOOLS/node_modules/kubernetes-models" ] && [ -d "$TOOLS/node_modules/yaml" ] ||
    fail "deploy/tools/node_modules is missing: run scripts/install-deps.sh (npm ci there)"

# ---- 1. Kubernetes manifests ----------------------------------------------------------------
validate() { node "$TOOLS/validate-k8s.mjs" "$@" >"$IT_WORK/validate.out" 2>&1; }
MANIFESTS=("$DEPLOY"/k8s/*.yaml)
if ! validate "${MANIFESTS[@]}"; then
    cat "$IT_WORK/validate.out" >&2
    fail "deploy/k8s does not validate"
fi
say "deploy/k8s: $(tail -n 1 "$IT_WORK/validate.out") (schema of kubernetes-models" \
    "$(node -p "require('$TOOLS/node_modules/kubernetes-models/package.json').version"))"

# refused COPY_OF SED_EXPR WANT: a copy of deploy/k8s with SED_EXPR applied to file COPY_OF
# must be refused, with WANT in the validator's output.
refused() {
    local dir=$IT_WORK/broken f
    rm -rf "$dir"
    mkdir -p "$dir"
    for f in "${MANIFESTS[@]}"; do cp "$f" "$dir/"; done
    sed -i -E "$2" "$dir/$1"
    cmp -s "$dir/$1" "$DEPLOY/k8s/$1" && fail "broken copy of $1: '$2' changed nothing"
    if validate "$dir"/*.yaml; then
        fail "a copy of $1 with '$2' validates"
    fi
    grep -qF -- "$3" "$IT_WORK/validate.out" || {
        cat "$IT_WORK/validate.out" >&2
        fail "a copy of $1 with '$2' is refused, but not for: $3"
    }
    say "refused as it must be: $1 with '$2': $(grep -m1 -F -- "$3" "$IT_WORK/validate.out")"
}
refused 40-icscf.yaml 's/^  replicas: 1$/  replicas: "two"/' "/spec/replicas must be integer"
refused 50-pcscf.yaml '/^ *image: /d' "container pcscf has no image"
refused 30-scscf.yaml '0,/protocol: UDP/s//protocol: UPD/' "protocol must be equal to one of"
refused 20-hss.yaml 's/^  serviceName: ims-hss$/  serviceName: [ims-hss/' "20-hss.yaml: document 2:"

# k8s.cjs: queries on the manifest set, with deploy/tools' yaml module.
cat >"$IT_WORK/k8s.cjs" <<'EOF'
const fs = require("fs");
const YAML = require(process.env.TOOLS + "/node_modules/yaml");
const docs = process.argv.slice(3).flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(f, "utf8")).map((d) => d.toJS()).filter(Boolean));
const of = (kind) => docs.filter((d) => d.kind === kind);
const workloads = docs.filter((d) => ["Deployment", "StatefulSet"].includes(d.kind));
const bad = [];
const need = (cond, what) => { if (!cond) bad.push(what); };
const cmd = process.argv[2];
if (cmd === "configmaps") {             // write every ConfigMap's files into $OUT
    for (const cm of of("ConfigMap"))
        for (const [k, v] of Object.entries(cm.data || {}))
            fs.writeFileSync(process.env.OUT + "/" + k, v);
} else if (cmd === "resolve") {         // the IMS_RESOLVE of workload $NAME
    const w = workloads.find((d) => d.metadata.name === process.env.NAME);
    const e = w && w.spec.template.spec.containers[0].env.find((x) => x.name === "IMS_RESOLVE");
    console.log(e ? e.value : "");
} else if (cmd === "check") {           // what issue 8 asks of the set
    need(of("Namespace").length === 1, "one Namespace");
    const cms = of("ConfigMap").map((c) => Object.keys(c.data || {})).flat().sort().join(" ");
    need(cms === "hss.cfg icscf.cfg pcscf.cfg scscf.cfg", `ConfigMap files are: ${cms}`);
    const kinds = Object.fromEntries(workloads.map((w) => [w.metadata.name, w.kind]));
    need(kinds.pcscf === "Deployment" && kinds.icscf === "Deployment", "P/I-CSCF Deployments");
    need(kinds.scscf === "StatefulSet" && kinds["ims-hss"] === "StatefulSet", "S-CSCF, HSS sets");
    for (const w of workloads) {
        const c = w.spec.template.spec.containers[0], n = w.metadata.name;
        const m = (c.ports || []).find((p) => p.name === "metrics");
        need(m && m.containerPort === 9101, `${n}: port metrics = 9101`);
        for (const [p, path] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]])
            need(c[p] && c[p].httpGet && c[p].httpGet.path === path &&
                 c[p].httpGet.port === "metrics", `${n}: ${p} GET ${path} on metrics`);
        const caps = (c.securityContext && c.securityContext.capabilities) || {};
        need(JSON.stringify(caps.drop) === '["ALL"]', `${n}: drops ALL capabilities`);
        need(JSON.stringify(caps.add || []) === (n === "pcscf" ? '["NET_ADMIN"]' : "[]"),
             `${n}: adds ${n === "pcscf" ? "NET_ADMIN" : "no capability"}`);
        need(w.spec.template.spec.containers[0].args[0] === n, `${n}: runs ${n}`);
    }
    const svc = (name) => of("Service").find((s) => s.metadata.name === name) || { spec: {} };
    for (const n of ["pcscf", "icscf", "scscf"])
        for (const proto of ["UDP", "TCP"])
            need((svc(n).spec.ports || []).some((p) => p.port === 5060 && p.protocol === proto),
                 `Service ${n}: SIP on ${proto} 5060`);
    need((svc("ims-hss").spec.ports || []).some((p) => p.port === 3868 && p.protocol === "TCP"),
         "Service ims-hss: Diameter on TCP 3868");
    for (const b of bad) console.log("missing: " + b);
    if (!bad.length) console.log(`${docs.length} objects: all asked for are there`);
    process.exitCode = bad.length ? 1 : 0;
}
EOF
k8s() { TOOLS=$TOOLS node "$IT_WORK/k8s.cjs" "$@" "${MANIFESTS[@]}"; }
out=$(k8s check) || fail "deploy/k8s lacks what issue 8 asks: $out"
say "deploy/k8s: $out"

# ---- 2. Dockerfile --------------------------------------------------------------------------
DF=$DEPLOY/docker/Dockerfile
# df_lint: stages, targets and COPY sources; prints one line per problem.
df_lint() {
    awk -v root="$IMS_SOURCE_DIR" '
        function bad(m) { printf "Dockerfile:%d: %s\n", NR, m; nbad++ }
        /^FROM / { stage = ""
                   if (match($0, / AS [a-z0-9-]+$/)) stage = substr($0, RSTART + 4)
                   base = $2
                   if (base !~ /[:$\/]/ && !(base in stages)) bad("FROM " base ": no such stage")
                   if (stage == "") bad("unnamed stage")
                   else if (stage in stages) bad("stage " stage " twice")
                   stages[stage] = 1; cur = stage; next }
        /^COPY / { from = ""; n = 0
                   for (i = 2; i <= NF; i++) {
                       if ($i == "\\") continue
                       if ($i ~ /^--from=/) { from = substr($i, 8); continue }
                       if ($i ~ /^--/) continue
                       args[++n] = $i }
                   # continuation lines of a COPY carry more sources
                   last = $NF
                   while (last == "\\" && (getline line) > 0) {
                       m = split(line, more, " ")
                       for (i = 1; i <= m; i++) if (more[i] != "\\") args[++n] = more[i]
                       last = more[m] }
                   if (from != "" && !(from in stages)) bad("COPY --from=" from ": no such stage")
                   for (i = 1; i < n; i++)
                       if (from == "" && system("test -e \"" root "/" args[i] "\"") != 0)
                           bad("COPY source " args[i] " does not exist")
                       else if (from != "") copied[args[i]] = 1
                   next }
        /^ENV IMS_DAEMON=/ { daemon[cur] = substr($2, 12) }
        END { split("pcscf icscf scscf ims-hss", t, " ")
              for (i in t) {
                  if (!(t[i] in stages)) bad("no target " t[i])
                  if (daemon[t[i]] != t[i]) bad("target " t[i] " runs " daemon[t[i]])
                  if (!(("/src/build/" t[i]) in copied)) bad(t[i] " is not copied from build") }
              exit nbad > 0 }' "$DF"
}
out=$(df_lint) || fail "deploy/docker/Dockerfile: $out"
# The sources the build stage copies are in the context (not excluded by the .dockerignore).
for src in $(awk '/^COPY / && !/--from/ { for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' \
    "$DF"); do
    src=${src%/}
    ! grep -qxF -- "$src" "$DF.dockerignore" ||
        fail "Dockerfile copies $src, which .dockerignore excludes"
done
# The build stage installs every -dev package scripts/install-deps.sh does (CMake's needs),
# but for the fuzzing build's.
build_pkgs=$(awk '/^FROM .* AS build$/ { on = 1; next } /^FROM / { on = 0 } on' "$DF")
for p in $(sed -n '/^PKGS=(/,/^)/p' "$IMS_SOURCE_DIR/scripts/install-deps.sh" | tr ' ' '\n' |
    grep -E '^lib[a-z0-9.+-]+-dev$' | grep -vE '^lib(fuzzer|clang-rt)-'); do  # clang's fuzzing
    grep -qw -- "$p" <<<"$build_pkgs" ||
        fail "scripts/install-deps.sh installs $p, the Dockerfile's build stage does not"
done
grep -q -- '--target pcscf icscf scscf ims-hss imsctl' "$DF" ||
    fail "the build stage does not build the four daemons and imsctl"
# runtime_pkgs: the packages the runtime stage installs (the lines after its apt-get install
# up to the next "&&").
runtime_pkgs=$(awk '/^FROM .* AS runtime$/ { on = 1; next } /^FROM / { on = 0 }
    on && /apt-get install/ { grab = 1; next } on && grab && /^[[:space:]]*&&/ { grab = 0 }
    on && grab { print }' "$DF" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)
[ -n "$runtime_pkgs" ] || fail "no apt-get install found in the runtime stage"
if grep -E -- '-dev$' <<<"$runtime_pkgs"; then fail "the runtime stage installs -dev packages"; fi
# Each library a binary names (NEEDED; apt brings what those need in turn) must come from a
# package of the runtime stage. The sanitizer runtimes of an IMS_SANITIZE build are no
# library of the images.
needed=
for b in pcscf icscf scscf ims-hss imsctl; do
    exe=$(bin "$b") || exit 1
    for lib in $(objdump -p "$exe" | awk '$1 == "NEEDED" { print $2 }'); do
        case "$lib" in libasan.so* | libubsan.so* | liblsan.so* | libtsan.so*) continue ;; esac
        path=$(ldd "$exe" | awk -v l="$lib" '$1 == l && $3 ~ /^\// { print $3; exit }')
        [ -n "$path" ] || fail "$b: ldd does not find $lib"
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "/usr$(readlink -f "$path")" \
            2>/dev/null || dpkg -S "$path" 2>/dev/null) || fail "$b: no package owns $path"
        pkg=${pkg%%:*}
        [ "$pkg" = libc6 ] && continue   # in every Debian image
        grep -qxF "$pkg" <<<"$runtime_pkgs" ||
            fail "$b needs $lib ($pkg), which the Dockerfile's runtime stage does not install"
        needed+=" $pkg"
    done
done
say "Dockerfile: stages and COPY sources consistent; runtime packages cover the binaries'" \
    "libraries:$(tr ' ' '\n' <<<"$needed" | sort -u | tr '\n' ' ')"
if command -v shellcheck >/dev/null; then
    shellcheck "$ENTRY" >&2 || fail "shellcheck finds fault with entrypoint.sh"
    say "entrypoint.sh passes shellcheck"
fi

# ---- 3. the entrypoint with the lab's configuration -------------------------------------
declare -A MADDR=([pcscf]=$REG_P:9101 [icscf]=$REG_I:9101 [scscf]=$REG_S:9101
    [ims-hss]=$REG_H:9101)

# http_code ADDR PATH: status of GET PATH (000 when nothing answered).
http_code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$1$2" || true; }

# wait_code D PATH WANT SECONDS: GET PATH on D's metrics port answers WANT within SECONDS.
wait_code() {
    local d=$1 code='' i
    for ((i = 0; i < $4 * 5; i++)); do
        alive "${REG_PID[$d]}" || fail "$d died" "${REG_PID[$d]}"
        code=$(http_code "${MADDR[$d]}" "$2")
        [ "$code" = "$3" ] && return 0
        sleep 0.2
    done
    fail "$d: GET $2 answered $code for $4 s (want $3)" "${REG_PID[$d]}"
}

# entry_start D CONFIG_DIR [ENV=VALUE...]: start D through the entrypoint (env as given),
# check that the entrypoint exec'd the daemon (the pid we started runs $IMS_BUILD_DIR/D) and
# that /healthz answers 200.
entry_start() {
    local d=$1 cdir=$2 pid log exe
    shift 2
    log=$IT_WORK/entry-$d-$(basename "$cdir").log
    env IMS_CONFIG_DIR="$cdir" IMS_RUN_DIR="$IT_WORK/run-$(basename "$cdir")" \
        IMS_BIN_DIR="$IMS_BUILD_DIR" IMS_LOG_LEVEL=info "$@" \
        "$ENTRY" "$d" -p "$IT_WORK/$d.pid" >"$log" 2>&1 {REG_LOCK_FD}>&- &
    pid=$!
    track "$pid" "$d" "$log"
    REG_PID[$d]=$pid
    wait_code "$d" /healthz 200 15
    exe=$(readlink "/proc/$pid/exe")
    [ "$exe" = "$(readlink -f "$IMS_BUILD_DIR/$d")" ] ||
        fail "$d: pid $pid runs $exe, not the daemon: the entrypoint did not exec it" "$pid"
    say "$d: started by the entrypoint, pid $pid is $d, /healthz 200 on ${MADDR[$d]}"
}

# lab_up CONFIG_DIR [ENV...]: the four daemons in order, then Cx open and /readyz 200 all round.
lab_up() {
    local d
    for d in ims-hss scscf icscf pcscf; do entry_start "$d" "$@"; done
    for d in ims-hss scscf icscf pcscf; do wait_code "$d" /readyz 200 15; done
    say "all four /readyz 200 (the S- and I-CSCF's Cx connections are open)"
}

reg_lab_prepare
grep -q "^  listen = \"$REG_S:9101\";" "$REG_DIR/scscf.cfg" ||
    fail "config/lab/scscf.cfg: metrics.listen is not the lab's :9101"
lab_up "$REG_DIR"
reg_lab_stop
say "the lab's daemons, started by the entrypoint, exited 0 on SIGTERM"

# ---- 4. the ConfigMaps' configurations, rendered by the entrypoint -----------------------
K8S=$IT_WORK/k8s
mkdir -p "$K8S/hss"
OUT=$K8S k8s configmaps
# TEST ONLY: sipp 3.6 fails on an AKA RES with a zero octet (shared design.md).
printf 'test_redraw_zero_res = true;\n' >>"$K8S/hss.cfg"
if env -u ICSCF_ADDR POD_IP=127.0.0.1 SCSCF_ADDR=127.0.0.1 IMS_CONFIG_DIR="$K8S" \
    "$ENTRY" --render pcscf >/dev/null 2>"$IT_WORK/render.err"; then
    fail "the entrypoint rendered pcscf.cfg without ICSCF_ADDR"
fi
grep -q 'pcscf.cfg:[0-9]*: ${ICSCF_ADDR} is not set' "$IT_WORK/render.err" ||
    fail "the entrypoint names not file, line and variable: $(cat "$IT_WORK/render.err")"
say "a template naming an unset variable is refused: $(cat "$IT_WORK/render.err")"
# The peers' addresses are given, so IMS_RESOLVE (as in the manifests) resolves nothing.
PEERS=(HSS_ADDR="$REG_H" SCSCF_ADDR="$REG_S" ICSCF_ADDR="$REG_I" PCSCF_ADDR="$REG_P"
    IMS_STORE_DIR="$K8S/state")
mkdir -p "$K8S/state"
for d in ims-hss scscf icscf pcscf; do
    resolve=$(NAME=$d k8s resolve)
    [ "$d" = ims-hss ] || [ -n "$resolve" ] || fail "deploy/k8s: $d has no IMS_RESOLVE"
    declare "RESOLVE_${d//-/_}=$resolve"
done
lab_up_k8s() {
    local d addr
    declare -A pod=([ims-hss]=$REG_H [scscf]=$REG_S [icscf]=$REG_I [pcscf]=$REG_P)
    for d in ims-hss scscf icscf pcscf; do
        addr=${pod[$d]}
        local res=RESOLVE_${d//-/_}
        entry_start "$d" "$K8S" POD_IP="$addr" METRICS_LISTEN="$addr:9101" \
            IMS_RESOLVE="${!res}" IMS_STATE_DIR="$K8S/hss" "${PEERS[@]}"
    done
    for d in ims-hss scscf icscf pcscf; do wait_code "$d" /readyz 200 15; done
    say "all four /readyz 200 with the ConfigMaps' configurations"
}
lab_up_k8s
reg_users_csv "$IT_WORK/ue.csv" 7 1
reg_sipp k8s-reg reg_aka.xml 1 20 -inf "$IT_WORK/ue.csv" -auth_uri "sip:$REG_DOMAIN"
reg_expect_ok "IMS AKA registration through the ConfigMaps' P-, I- and S-CSCF" 1
# The store's journals land where IMS_STORE_DIR says (the pods' volumes in the manifests).
declare -A STORE_SRC=([pcscf]=pcscf/ue-store.c [scscf]=scscf/reg-store.c)
for d in pcscf scscf; do
    [ -f "$IMS_SOURCE_DIR/${STORE_SRC[$d]}" ] || continue   # no store in this tree yet
    [ -s "$K8S/state/$d.journal" ] || fail "$d: no journal in IMS_STORE_DIR ($K8S/state)"
    say "$d: its registrations are journalled in $K8S/state/$d.journal" \
        "($(wc -c <"$K8S/state/$d.journal") bytes)"
done
reg_lab_stop
say "the ConfigMaps' daemons exited 0 on SIGTERM"

# ---- 5. systemd units ---------------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
    say "systemd-analyze not installed: systemd units not verified"
    ok "manifests validate (broken copies do not), Dockerfile consistent, entrypoint runs" \
        "the lab and the ConfigMaps (registration); systemd units not verified"
fi
UNITS=$IT_WORK/units
mkdir -p "$UNITS"
for u in "$DEPLOY"/systemd/*.service; do
    grep -q '^Type=simple$' "$u" && grep -q '^Restart=on-failure$' "$u" ||
        fail "$(basename "$u"): not Type=simple with Restart=on-failure"
    sed "s|/usr/local/bin/|$IMS_BUILD_DIR/|" "$u" >"$UNITS/$(basename "$u")"
done
[ -f "$UNITS/ims-pcscf.service" ] || fail "deploy/systemd/ims-pcscf.service missing"
for k in CapabilityBoundingSet AmbientCapabilities; do
    grep -qx "$k=CAP_NET_ADMIN" "$UNITS/ims-pcscf.service" ||
        fail "ims-pcscf.service: no $k=CAP_NET_ADMIN"
done
for u in ims-icscf ims-scscf ims-hss; do
    grep -qx "CapabilityBoundingSet=" "$UNITS/$u.service" || fail "$u.service keeps capabilities"
done
(cd "$UNITS" && systemd-analyze verify --man=no ./*.service) >"$IT_WORK/verify.out" 2>&1 ||
    { cat "$IT_WORK/verify.out" >&2; fail "systemd-analyze verify failed"; }
if [ -s "$IT_WORK/verify.out" ]; then
    cat "$IT_WORK/verify.out" >&2
    fail "systemd-analyze verify complains"
fi
sed 's/^Restart=/Restrt=/' "$UNITS/ims-pcscf.service" >"$UNITS/broken-pcscf.service"
(cd "$UNITS" && systemd-analyze verify --man=no ./broken-pcscf.service) >"$IT_WORK/verify.out" 2>&1
grep -q "Unknown key 'Restrt'" "$IT_WORK/verify.out" ||
    fail "systemd-analyze verify did not notice a broken unit: $(cat "$IT_WORK/verify.out")"
nunits=$(find "$DEPLOY/systemd" -name "*.service" | wc -l)
say "systemd units: verify is silent on $nunits units," \
    "and complains about a broken copy"
ok "manifests validate (broken copies do not), Dockerfile consistent, entrypoint runs the lab" \
    "and the ConfigMaps (registration), systemd units verify"
