#!/usr/bin/env bash
# Build the one image of the five gonghui services from deploy/image/Dockerfile.
#
#   deploy/image/build.sh                 build gonghui/services:dev
#   IMAGE=gonghui/services:0.1.0 deploy/image/build.sh
#
# Which engine (BUILDER=auto|docker|podman|buildah, default auto): a Docker engine that answers
# `docker info`, else a Podman that answers `podman info` and can run a container, else buildah (installed from Debian's
# packages with apt-get when missing; root, rootful storage, --isolation chroot, no daemon).
#
# Which base (BASE=auto|official|debian, default auto): the official python:3.11-slim-bookworm
# when the engine can pull it; otherwise (no registry reachable) localhost/gonghui-base:bookworm,
# made once from a `debootstrap --variant=minbase bookworm` rootfs with Debian's python3 (3.11),
# python3-venv and ca-certificates, and kept in the engine's storage (REBUILD_BASE=1 remakes it).
# BASE_IMAGE=<ref> uses that image as is.
#
# Other settings:
#   OCI_ARCHIVE   where to write the image as an OCI archive (buildah/podman; empty: don't);
#                 default deploy/image/out/gonghui-services.oci.tar
#   CA_BUNDLE     a PEM bundle given to the build as the secret `ca_bundle` for its PyPI
#                 downloads (a TLS-intercepting proxy's CA); default $SSL_CERT_FILE or
#                 /etc/ssl/certs/ca-certificates.crt when present; `none` gives none.
#                 It is mounted for single RUN steps only and is in no layer.
#   STORAGE_DRIVER  buildah's storage driver, default vfs (works on any filesystem); later
#                 buildah commands need the same: buildah --storage-driver vfs images
#   DEBIAN_MIRROR   default http://deb.debian.org/debian
#   NO_CACHE=1    build without the layer cache
#   VERIFY=0      skip the check of the built image (imports of every service, servicekit --help,
#                 as the image's user 10001)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=deploy/debian-packages.sh
source "$ROOT/deploy/debian-packages.sh"
DOCKERFILE=$HERE/Dockerfile

IMAGE=${IMAGE:-gonghui/services:dev}
BUILDER=${BUILDER:-auto}
BASE=${BASE:-auto}
BASE_IMAGE=${BASE_IMAGE:-}
OFFICIAL_BASE=docker.io/library/python:3.11-slim-bookworm
LOCAL_BASE=localhost/gonghui-base:bookworm
OCI_ARCHIVE=${OCI_ARCHIVE-$HERE/out/gonghui-services.oci.tar}
STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

started=$(date +%s)
say() { printf '[build.sh %4ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- the engine ---------------------------------------------------------------------------------
pick_builder() {
    if [[ $BUILDER == auto ]]; then
        if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
            BUILDER=docker
        elif command -v podman >/dev/null && podman info >/dev/null 2>&1 && podman_runs; then
            BUILDER=podman
        else
            BUILDER=buildah
        fi
    fi
    case $BUILDER in
        docker | podman) command -v "$BUILDER" >/dev/null || die "$BUILDER is not installed" ;;
        buildah) need_commands "$HERE/out/apt.log" buildah || die "buildah is missing and could not be installed" ;;
        *) die "BUILDER must be auto, docker, podman or buildah (not $BUILDER)" ;;
    esac
    ENGINE=("$BUILDER")
    [[ $BUILDER == buildah ]] && ENGINE+=(--storage-driver "$STORAGE_DRIVER")
    say "engine: $BUILDER ($("$BUILDER" --version | head -n1))"
}

podman_runs() { # podman can also start a container (an image-less one: the host's / read-only)
    timeout 120 podman run --rm --network none --read-only --rootfs / /bin/true >/dev/null 2>&1 ||
        { say "podman answers but cannot run a container here: using buildah"; return 1; }
}

engine() { "${ENGINE[@]}" "$@"; } # the engine's own command line (buildah: with the storage driver)

have_image() {
    case $BUILDER in
        docker) docker image inspect "$1" >/dev/null 2>&1 ;;
        podman) podman image exists "$1" ;;
        buildah) engine inspect --type image "$1" >/dev/null 2>&1 ;;
    esac
}

# --- the base -----------------------------------------------------------------------------------
pick_base() {
    if [[ -n $BASE_IMAGE ]]; then
        say "base: $BASE_IMAGE (BASE_IMAGE)"
        return
    fi
    case $BASE in
        official) BASE_IMAGE=$OFFICIAL_BASE ;;
        debian) make_local_base ;;
        auto)
            say "trying to pull $OFFICIAL_BASE"
            if have_image "$OFFICIAL_BASE" || timeout 300 "${ENGINE[@]}" pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
                BASE_IMAGE=$OFFICIAL_BASE
            else
                say "cannot pull $OFFICIAL_BASE: using the Debian base made here"
                make_local_base
            fi
            ;;
        *) die "BASE must be auto, official or debian (not $BASE)" ;;
    esac
    say "base: $BASE_IMAGE"
}

make_local_base() {
    BASE_IMAGE=$LOCAL_BASE
    if [[ ${REBUILD_BASE:-0} != 1 ]] && have_image "$LOCAL_BASE"; then
        say "$LOCAL_BASE is there already (REBUILD_BASE=1 remakes it)"
        return
    fi
    [[ $(id -u) == 0 ]] || die "making $LOCAL_BASE with debootstrap needs root"
    need_commands "$HERE/out/apt.log" debootstrap || die "debootstrap could not be installed"
    local work rootfs
    work=$(mktemp -d /var/tmp/gonghui-base.XXXXXX)
    rootfs=$work/rootfs
    # shellcheck disable=SC2064
    trap "umount -l '$rootfs/proc' 2>/dev/null || true; rm -rf --one-file-system '$work'" EXIT
    say "debootstrap --variant=minbase $SUITE (python3, python3-venv, ca-certificates) from $DEBIAN_MIRROR"
    nice debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

    say "security and point-release updates, then trimming"
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb ${DEBIAN_MIRROR%/debian}/debian-security $SUITE-security main
EOF
    # what debian:*-slim leaves out of every later dpkg install too
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/gonghui-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/gonghui-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
    mount -t proc proc "$rootfs/proc"
    chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -ec 'apt-get update -qq; apt-get -y -qq -o Dpkg::Options::=--force-confold upgrade; apt-get clean' \
        >"$work/upgrade.log" 2>&1 || { tail -n 30 "$work/upgrade.log" >&2; die "apt-get upgrade in the rootfs failed"; }
    umount "$rootfs/proc"
    ! grep -q " ${rootfs}[/ ]" /proc/self/mounts || die "something is still mounted under $rootfs"
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf --one-file-system "${rootfs:?}"/usr/share/{man,info,locale,lintian}/* \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
        "$rootfs"/var/cache/ldconfig/aux-cache "$rootfs"/var/lib/dpkg/*-old \
        "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache \
        "${rootfs:?}"/dev/* "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname "$rootfs"/etc/machine-id
    local python
    python=$(chroot "$rootfs" /usr/bin/python3 -c 'import platform; print(platform.python_version())')
    [[ $python == 3.11.* ]] || die "the rootfs has Python $python, not 3.11"
    say "rootfs: Python $python, $(du -sh --apparent-size "$rootfs" | cut -f1)"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$rootfs" -cf "$work/rootfs.tar" .

    local changes=('ENV LANG=C.UTF-8' 'CMD ["python3"]')
    case $BUILDER in
        buildah)
            local ctr
            ctr=$(engine from --quiet scratch)
            engine add --quiet "$ctr" "$work/rootfs.tar" / >/dev/null
            engine config --env LANG=C.UTF-8 --cmd python3 \
                --label org.opencontainers.image.title=gonghui-base \
                --label org.opencontainers.image.description="debootstrap --variant=minbase $SUITE with Debian's python3 $python" \
                --label org.opencontainers.image.version="$SUITE-python$python" "$ctr"
            engine commit --quiet --rm "$ctr" "$LOCAL_BASE" >/dev/null
            ;;
        docker | podman)
            "$BUILDER" import --change "${changes[0]}" --change "${changes[1]}" \
                "$work/rootfs.tar" "$LOCAL_BASE" >/dev/null
            ;;
    esac
    rm -rf --one-file-system "$work"
    trap - EXIT
    say "made $LOCAL_BASE"
}

# --- the build ----------------------------------------------------------------------------------
build() {
    local args=(-f "$DOCKERFILE" -t "$IMAGE" --build-arg "BASE_IMAGE=$BASE_IMAGE")
    local revision source ca=${CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
    revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
    source=$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null || true)
    args+=(--build-arg "REVISION=$revision")
    [[ -n $source ]] && args+=(--build-arg "SOURCE=$source")
    if [[ $ca != none && -s $ca ]]; then
        args+=(--secret "id=ca_bundle,src=$ca")
    fi
    [[ ${NO_CACHE:-0} == 1 ]] && args+=(--no-cache)
    case $BUILDER in
        docker) DOCKER_BUILDKIT=1 nice docker build "${args[@]}" "$ROOT" ;;
        podman) nice podman build --layers "${args[@]}" "$ROOT" ;;
        buildah) nice "${ENGINE[@]}" bud --isolation chroot --layers "${args[@]}" "$ROOT" ;;
    esac
}

SMOKE='import membership.main, aid.main, legal.main, skills.main, notify.main; print("imports ok")'

verify() { # the image's own user, the manifests' two command lines (no database needed)
    [[ ${VERIFY:-1} == 1 ]] || return 0
    say "checking $IMAGE: python -c 'import <every service>.main', servicekit --help"
    case $BUILDER in
        docker | podman)
            local run=("$BUILDER" run --rm --read-only --tmpfs /tmp --user 10001:10001 "$IMAGE")
            "${run[@]}" python -c "$SMOKE" >&2
            "${run[@]}" servicekit --help >/dev/null
            ;;
        buildah)
            local ctr status=0
            ctr=$(engine from --quiet "$IMAGE")
            # shellcheck disable=SC2016 # expanded in the container
            { engine run --isolation chroot "$ctr" -- sh -c 'echo "user $(id -u):$(id -g)"' &&
                engine run --isolation chroot "$ctr" -- python -c "$SMOKE" &&
                engine run --isolation chroot "$ctr" -- servicekit --help >/dev/null; } >&2 || status=$?
            engine rm "$ctr" >/dev/null
            ((status == 0)) || die "the image failed its check"
            ;;
    esac
}

export_archive() {
    [[ -n $OCI_ARCHIVE ]] || return 0
    [[ $BUILDER == docker ]] && { say "docker: no OCI archive (use docker save)"; return 0; }
    mkdir -p "$(dirname "$OCI_ARCHIVE")"
    rm -f "$OCI_ARCHIVE"
    local name=${IMAGE#localhost/}
    case $BUILDER in
        buildah) engine push --quiet "$IMAGE" "oci-archive:$OCI_ARCHIVE:$name" ;;
        podman) podman save --quiet --format oci-archive -o "$OCI_ARCHIVE" "$IMAGE" ;;
    esac
    say "OCI archive: $OCI_ARCHIVE ($(du -h "$OCI_ARCHIVE" | cut -f1))"
}

pick_builder
pick_base
say "building $IMAGE"
build
say "built $IMAGE"
engine images "$IMAGE" >&2 || true
verify
export_archive
say "done"
