#!/usr/bin/env bash
# Creates a local stand-in for the `python:3.11-slim` image on hosts that cannot pull from a
# registry: a minimal Debian bookworm (whose python3 is 3.11) laid out the way the official image
# is used (python, python3, python3.11 and pip on PATH, pip allowed to install system-wide).
#
# Usage: bash docker/base-image.sh [TAG]        (default TAG: python:3.11-slim)
# Env:   ARTICLE_BOT_BASE_CACHE  where the rootfs tarball is cached (default
#        /var/cache/article-bot-docker), DEBIAN_MIRROR  overrides the host's apt mirror.
# Does nothing when TAG already exists locally.
set -euo pipefail

tag="${1:-python:3.11-slim}"
cache_dir="${ARTICLE_BOT_BASE_CACHE:-/var/cache/article-bot-docker}"
tarball="$cache_dir/bookworm-python3.11-rootfs.tar"
suite=bookworm

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag already present"
    exit 0
fi

host_mirror() {
    # The first Debian archive the host's apt already uses: it is reachable from here.
    local uri=""
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
        uri=$(awk '/^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || {
        echo "debootstrap is missing (apt-get install debootstrap)" >&2
        exit 1
    }
    mirror="${DEBIAN_MIRROR:-$(host_mirror)}"
    mkdir -p "$cache_dir"
    rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap $suite from $mirror into $rootfs"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$suite" "$rootfs" "$mirror"

    # Same archive (and security updates) inside the image as on the host.
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
EOF
    # The host's extra CA certificates (e.g. an egress proxy's) so TLS works as on the host.
    shopt -s nullglob
    extra_certs=(/usr/local/share/ca-certificates/*.crt)
    if ((${#extra_certs[@]})); then
        cp "${extra_certs[@]}" "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates
    fi
    # The official image has its interpreter in /usr/local/bin and lets pip install anywhere.
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python3"
    ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3.11"
    ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

    tar -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
fi

echo "importing $tarball as $tag"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$tarball" "$tag"
docker run --rm "$tag" python --version
