#!/usr/bin/env bash
# Runs as pid 1 of a new pid namespace, inside the guest's own mount, uts, ipc and network
# namespaces (see src/guests/guest.ts): builds the guest's root filesystem, pivots into it
# and hands over to the guest's init.
#
#   /usr, /etc   overlay: per-VM upper (the OS disk) over the image layer over the host's
#                userland (read-only lower layers)
#   /var /home /root /opt /srv /mnt   the OS disk's own directories
#   /dev         a fresh tmpfs with the basic nodes and the data disk at LUN 0
#   /proc /sys /run /tmp   fresh
#
# Environment: GUEST_ROOT (empty dir, the mount point), GUEST_OS_DISK (per-VM dir),
# GUEST_IMAGE (image layer dir), GUEST_LOOP (loop device of the data disk or empty),
# GUEST_HOSTNAME, GUEST_ADDR (guest address/prefix), GUEST_BOOT_ID.
set -euo pipefail

R=${GUEST_ROOT:?}
OS=${GUEST_OS_DISK:?}

mount --make-rprivate /
mount -t tmpfs -o mode=0755 guest-root "$R"
for d in usr etc; do
  mkdir -p "$OS/upper/$d" "$OS/work/$d" "$R/$d"
  mount -t overlay overlay -o "lowerdir=$GUEST_IMAGE/$d:/$d,upperdir=$OS/upper/$d,workdir=$OS/work/$d" "$R/$d"
done
# Debian's merged /usr: /bin, /lib, ... are links into /usr.
for d in bin sbin lib lib32 lib64 libx32; do
  if [[ -L /$d ]]; then ln -s "$(readlink "/$d")" "$R/$d"; fi
done
for d in var home root opt srv mnt media; do
  mkdir -p "$OS/fs/$d" "$R/$d"
  mount --bind "$OS/fs/$d" "$R/$d"
done
chmod 0700 "$OS/fs/root"
mkdir -p "$R/var/lib" "$R/var/log" "$R/var/cache" "$R/var/tmp" "$R/var/spool"
chmod 1777 "$R/var/tmp"
[[ -e $R/var/run || -L $R/var/run ]] || ln -s ../run "$R/var/run"
[[ -e $R/var/lock || -L $R/var/lock ]] || ln -s ../run/lock "$R/var/lock"

mkdir -p "$R/proc" "$R/sys" "$R/run" "$R/tmp" "$R/dev"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs -o mode=0755 run "$R/run"
mkdir -p "$R/run/lock"
mount -t tmpfs -o mode=1777 tmp "$R/tmp"

# /dev: the usual character devices, a private devpts, and the data disk.
mount -t tmpfs -o mode=0755 dev "$R/dev"
while read -r name major minor mode; do
  mknod -m "$mode" "$R/dev/$name" c "$major" "$minor"
done <<'NODES'
null 1 3 666
zero 1 5 666
full 1 7 666
random 1 8 666
urandom 1 9 666
tty 5 0 666
NODES
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
if [[ -n ${GUEST_LOOP:-} ]]; then
  read -r major minor < <(stat -c '%t %T' "$GUEST_LOOP")
  mknod -m 0660 "$R$GUEST_LOOP" b "$((16#$major))" "$((16#$minor))"
  mkdir -p "$R/dev/disk/azure/scsi1"
  ln -s "../../..${GUEST_LOOP#/dev}" "$R/dev/disk/azure/scsi1/lun0"
fi

# A boot id of this boot (the kernel's is shared by every guest on the host).
printf '%s\n' "$GUEST_BOOT_ID" >"$R/run/.boot_id"
mount --bind "$R/run/.boot_id" "$R/proc/sys/kernel/random/boot_id"

hostname "$GUEST_HOSTNAME"
ip link set lo up
if ip link show eth0 >/dev/null 2>&1; then
  ip addr add "$GUEST_ADDR" dev eth0
  ip link set eth0 up
fi
# No default route and no name server: the guest reaches nothing beyond its link (the host
# side of the veth, which forwards the VM's public IP port 22 to it), and lookups fail at
# once instead of timing out (sudo resolves the host name on every call).
printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' "$GUEST_HOSTNAME" >"$R/etc/hosts"

cd "$R"
mkdir -p .old-root
pivot_root . .old-root
cd /
umount -l /.old-root
rmdir /.old-root
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  /usr/bin/python3 /usr/lib/local-azure-guest/init.py
