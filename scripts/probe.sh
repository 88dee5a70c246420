#!/bin/sh
# pv-doctor disk probe: prints ONE JSON report (pv-doctor/v1 ProbeReport) of every block device
# on this machine. It only READS: sysfs, /proc/1/mountinfo (the host's mount table when run with
# the host PID namespace), /proc/swaps, /dev/disk/* links, and each device's first and last
# sectors through libblkid (`wipefs --no-act`, `blkid -p`) — the device itself, not udev's cache,
# which can be empty or stale. It never writes to any device.
#
# Needs POSIX sh, awk, sed, tr and util-linux (wipefs or blkid; lsblk optional). Run as root to
# read the devices; a device that cannot be read is reported with "probeError" and is never
# offered. The node name comes from $NODE_NAME, else `hostname`.
#
#   NODE_NAME=node1 sh probe.sh > node1.json
set -u
LC_ALL=C
export LC_ALL
PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

# JSON string: drop control characters, escape backslash and double quote.
js() {
  printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}
# JSON string or null when empty.
jsn() {
  if [ -n "$1" ]; then js "$1"; else printf 'null'; fi
}
# JSON array of the non-empty lines of $1.
jarr() {
  printf '['
  _sep=''
  printf '%s\n' "$1" | while IFS= read -r _l; do
    [ -n "$_l" ] || continue
    printf '%s%s' "$_sep" "$(js "$_l")"
    _sep=','
  done
  printf ']'
}
jbool() {
  if [ "$1" = 1 ]; then printf 'true'; else printf 'false'; fi
}
# First line of a sysfs attribute, surrounding blanks trimmed; empty when absent.
attr() {
  [ -r "$1" ] || return 0
  sed -n '1{s/^[[:space:]]*//;s/[[:space:]]*$//;p;}' "$1" 2>/dev/null
}
have() {
  command -v "$1" >/dev/null 2>&1
}

node=${NODE_NAME:-$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)}
udev=false
[ -d /run/udev/data ] && udev=true

# "majmin resolved-source mountpoint" for every mount of the host (PID 1's mount namespace).
mounts=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; print $3, $(i + 2), $5 }' /proc/1/mountinfo 2>/dev/null |
  while read -r mm src mp; do
    case $src in /dev/*) src=$(readlink -f "$src" 2>/dev/null || printf '%s' "$src") ;; esac
    printf '%s %s %s\n' "$mm" "$src" "$mp"
  done)
mountsReadable=true
[ -r /proc/1/mountinfo ] || mountsReadable=false

# Active swap areas, resolved to kernel paths.
swaps=$(awk 'NR > 1 { print $1 }' /proc/swaps 2>/dev/null | while read -r f; do readlink -f "$f" 2>/dev/null || printf '%s\n' "$f"; done)

# "target link" for every udev-made link to a block device.
links=$(for l in /dev/disk/*/* /dev/mapper/* /dev/md/*; do
  [ -L "$l" ] || continue
  printf '%s %s\n' "$(readlink -f "$l")" "$l"
done 2>/dev/null)

printf '{"apiVersion":"pv-doctor/v1","kind":"ProbeReport","probeVersion":1'
printf ',"node":%s' "$(js "$node")"
printf ',"time":%s' "$(js "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
printf ',"kernel":%s' "$(js "$(uname -r)")"
printf ',"udev":%s,"mountTableReadable":%s' "$udev" "$mountsReadable"
printf ',"tools":{"wipefs":%s,"blkid":%s,"lsblk":%s}' \
  "$(have wipefs && echo true || echo false)" "$(have blkid && echo true || echo false)" "$(have lsblk && echo true || echo false)"
printf ',"swaps":%s' "$(jarr "$swaps")"
printf ',"devices":['

first=1
for sysdev in /sys/class/block/*; do
  [ -e "$sysdev/dev" ] || continue
  name=${sysdev##*/}
  path=/dev/$name
  majmin=$(attr "$sysdev/dev")
  real=$(readlink -f "$sysdev")
  parent=''
  kind=disk
  if [ -e "$sysdev/partition" ]; then
    kind=part
    parent=$(basename "$(dirname "$real")")
    top=/sys/class/block/$parent
  else
    top=$sysdev
    case $name in
      loop*) kind=loop ;;
      sr*) kind=rom ;;
      dm-*)
        case $(attr "$sysdev/dm/uuid") in
          mpath-*) kind=mpath ;; LVM-*) kind=lvm ;; CRYPT-*) kind=crypt ;; part*) kind=part ;; *) kind=dm ;;
        esac ;;
      md*) kind=$(attr "$sysdev/md/level"); [ -n "$kind" ] || kind=md ;;
    esac
    [ "$(attr "$sysdev/device/type")" = 5 ] && kind=rom
  fi
  sectors=$(attr "$sysdev/size")
  size=$(( ${sectors:-0} * 512 ))
  rota=$(attr "$top/queue/rotational")
  rm=$(attr "$top/removable")
  ro=$(attr "$sysdev/ro")
  hidden=$(attr "$sysdev/hidden")

  wwn='' serial='' model=''
  if have lsblk && [ -b "$path" ]; then
    wwn=$(lsblk -dnr -o WWN "$path" 2>/dev/null)
    serial=$(lsblk -dnr -o SERIAL "$path" 2>/dev/null)
    model=$(lsblk -dnr -o MODEL "$path" 2>/dev/null)
  fi
  [ -n "$wwn" ] || wwn=$(attr "$top/device/wwid")
  [ -n "$wwn" ] || wwn=$(attr "$top/wwid")
  [ -n "$serial" ] || serial=$(attr "$top/device/serial")
  [ -n "$serial" ] || serial=$(attr "$top/serial")
  [ -n "$model" ] || model=$(attr "$top/device/model")
  vendor=$(attr "$top/device/vendor")

  partitions=$(for p in "$sysdev"/"$name"*; do [ -e "$p/partition" ] && printf '%s\n' "${p##*/}"; done 2>/dev/null)
  holders=$(ls "$sysdev/holders" 2>/dev/null)
  slaves=$(ls "$sysdev/slaves" 2>/dev/null)
  devlinks=$(printf '%s\n' "$links" | awk -v p="$path" '$1 == p { print $2 }' | sort)
  mps=$(printf '%s\n' "$mounts" | awk -v mm="$majmin" -v p="$path" '$1 == mm || $2 == p { print $3 }' | sort -u)
  swap=0
  printf '%s\n' "$swaps" | grep -qx "$path" && swap=1

  # Signatures, read from the device itself (libblkid low-level probing, no cache, no writes).
  sigs='' perr=''
  if [ "$size" -eq 0 ]; then
    :
  elif [ ! -b "$path" ]; then
    perr='no device node'
  elif have wipefs; then
    out=$(wipefs --no-act --noheadings --output TYPE,OFFSET "$path" 2>&1)
    if [ $? -eq 0 ]; then
      sigs=$out
    else
      perr=$(printf '%s\n' "$out" | sed -n '1{s/^wipefs: //;s/^error: //;p;}')
    fi
  elif have blkid; then
    out=$(blkid -p -o export "$path" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
      sigs=$(printf '%s\n' "$out" | sed -n 's/^TYPE=\(.*\)/\1 -/p; s/^PTTYPE=\(.*\)/\1 -/p')
    elif [ $rc -ne 2 ]; then
      perr=$(printf '%s\n' "$out" | sed -n '1{s/^blkid: //;s/^error: //;p;}')
    fi
  else
    perr='neither wipefs nor blkid is installed'
  fi

  [ $first = 1 ] || printf ','
  first=0
  printf '{"name":%s,"path":%s,"majMin":%s,"type":%s,"parent":%s' "$(js "$name")" "$(js "$path")" "$(js "$majmin")" "$(js "$kind")" "$(jsn "$parent")"
  printf ',"sizeBytes":%s,"rotational":%s,"removable":%s,"readOnly":%s,"hidden":%s' "$size" "$(jbool "$rota")" "$(jbool "$rm")" "$(jbool "$ro")" "$(jbool "$hidden")"
  printf ',"wwn":%s,"serial":%s,"model":%s,"vendor":%s' "$(jsn "$wwn")" "$(jsn "$serial")" "$(jsn "$model")" "$(jsn "$vendor")"
  printf ',"links":%s,"partitions":%s,"holders":%s,"slaves":%s' "$(jarr "$devlinks")" "$(jarr "$partitions")" "$(jarr "$holders")" "$(jarr "$slaves")"
  printf ',"mountpoints":%s,"swap":%s' "$(jarr "$mps")" "$(jbool "$swap")"
  printf ',"signatures":['
  s1=1
  printf '%s\n' "$sigs" | while read -r t off; do
    [ -n "$t" ] || continue
    [ $s1 = 1 ] || printf ','
    s1=0
    printf '{"type":%s,"offset":%s}' "$(js "$t")" "$(jsn "${off#-}")"
  done
  printf '],"probeError":%s' "$(jsn "$perr")"
  case $kind in
    loop) printf ',"backingFile":%s' "$(jsn "$(attr "$sysdev/loop/backing_file")")" ;;
    mpath | lvm | crypt | dm) printf ',"dmName":%s,"dmUuid":%s' "$(jsn "$(attr "$sysdev/dm/name")")" "$(jsn "$(attr "$sysdev/dm/uuid")")" ;;
  esac
  printf '}'
done
printf ']}\n'
