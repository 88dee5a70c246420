#!/bin/sh
# pv-doctor disk probe: prints ONE JSON report (pv-doctor/v1 ProbeReport) of every block device
# on this machine. It only READS: sysfs, /proc/1/mountinfo (the host's mount table when run with
# the host PID namespace), /proc/swaps, /dev/disk/* links, and each device's first and last
# sectors through libblkid (`wipefs --no-act`, `blkid -p`) — the device itself, not udev's cache,
# which can be empty or stale. On a disk that looks blank it also reads what an erased partition
# table leaves behind (`blkid -p -O` at old partition starts, `dd | od` of the table areas), and
# it opens each whole device O_RDONLY|O_EXCL once to ask the kernel whether anything holds it.
# It never writes to any device.
#
# Needs POSIX sh, awk, sed, tr, sort, dd, od, util-linux (wipefs or blkid; blkid for the remnant
# scan; lsblk optional) and perl (perl-base, in every Debian and Ubuntu image) for the
# exclusive open. Run as root to read the devices; a device that cannot be read is reported with
# "probeError" and is never offered. The node name comes from $NODE_NAME, else `hostname`.
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

# Partition tables whose signature alone is on a disk: the disk may still be "blank" inside.
only_tables() {
  printf '%s\n' "$1" | awk 'NF && $1 !~ /^(gpt|PMBR|dos|mac|bsd|sun|sgi|solaris|unixware|minix|atari|aix)$/ { bad = 1 } END { exit bad }'
}

# What an erased partition table leaves: `wipefs -a` erases only the magic bytes (the MBR's 55 AA,
# "EFI PART" of both GPT headers) and zeroing the first MiB leaves the backup GPT at the end, so
# the entries still say where the old partitions start. Reads the first 2 sectors + 16 KiB and
# the last sector + 16 KiB (dd | od: util-linux has no tool that reads a GPT without its
# signatures, and sgdisk is not in the probe image). Prints "start <byte offset>" per listed
# partition (MBR entries, primary and backup GPT entries), "primary" when LBA 1 holds a GPT
# header, "backup <byte offset> <partitions>" when the last LBA does, "short" on a short read.
#   table_remnants PATH SIZE_BYTES LOGICAL_BLOCK_SIZE
table_remnants() {
  _hn=$((16384 + 2 * $3))
  _tn=$((16384 + $3))
  [ "$2" -ge $((_hn + _tn)) ] || return 0
  {
    echo H
    dd if="$1" bs=512 count=$((_hn / 512)) 2>/dev/null | od -An -v -tu1
    echo T
    dd if="$1" bs=512 skip=$((($2 - _tn) / 512)) count=$((_tn / 512)) 2>/dev/null | od -An -v -tu1
  } | awk -v lbs="$3" -v size="$2" -v hn="$_hn" -v tn="$_tn" '
    function le(a, o, n,   v, i) { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + a[o + i]; return v }
    function efi(a, o) { return a[o] == 69 && a[o+1] == 70 && a[o+2] == 73 && a[o+3] == 32 && a[o+4] == 80 && a[o+5] == 65 && a[o+6] == 82 && a[o+7] == 84 }
    function used(a, o,   i) { for (i = 0; i < 16; i++) if (a[o + i] != 0) return 1; return 0 }
    # GPT entries (type GUID 16 bytes, unique GUID 16, first LBA 8, last LBA 8) from byte o to end.
    function entries(a, o, end, cnt, esz,   i, e, f, l, k) {
      k = 0
      for (i = 0; i < cnt && o + (i + 1) * esz <= end; i++) {
        e = o + i * esz
        if (!used(a, e)) continue
        f = le(a, e + 32, 8); l = le(a, e + 40, 8)
        if (f >= 1 && l >= f && l < nlba) { printf "start %.0f\n", f * lbs; k++ }
      }
      return k
    }
    $1 == "H" { w = 1; next }
    $1 == "T" { w = 2; next }
    { for (i = 1; i <= NF; i++) if (w == 1) h[nh++] = $i; else t[nt++] = $i }
    END {
      if (nh < hn || nt < tn) { print "short"; exit }
      nlba = size / lbs
      for (i = 0; i < 4; i++) {
        e = 446 + 16 * i; s = le(h, e + 8, 4)
        # 0xEE is the protective entry of a GPT disk, not a partition.
        if (h[e + 4] != 0 && h[e + 4] != 238 && s > 0 && s < nlba) printf "start %.0f\n", s * lbs
      }
      if (efi(h, lbs)) print "primary"
      entries(h, 2 * lbs, hn, 128, 128)
      ho = tn - lbs
      if (efi(t, ho)) {
        o = (le(t, ho + 72, 8) - (nlba - tn / lbs)) * lbs; c = le(t, ho + 80, 4); z = le(t, ho + 84, 4)
        if (o < 0 || o >= ho || z < 128 || z % 8) { o = 0; c = 128; z = 128 }
        printf "backup %.0f %d\n", (nlba - 1) * lbs, entries(t, o, ho, c, z)
      } else entries(t, 0, ho, 128, 128)
    }'
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

# Exclusive use, as the kernel sees it: an O_RDONLY|O_EXCL open of a block device fails with EBUSY
# while anything holds it exclusively (a mount, swap, md, dm, a process such as a database or a
# VM). One perl for every whole device (perl-base is essential in Debian; util-linux has no
# tool that only opens O_EXCL). Prints "<path> ok" or "<path> <errno> <message>".
exclusive=''
exclusiveChecked=false
if have perl; then
  set --
  for sysdev in /sys/class/block/*; do
    # Empty devices (unbound loop, nbd, a drive without medium) are left alone.
    [ -e "$sysdev/dev" ] && [ ! -e "$sysdev/partition" ] && [ "$(attr "$sysdev/size")" != 0 ] && [ -b "/dev/${sysdev##*/}" ] && set -- "$@" "/dev/${sysdev##*/}"
  done
  if [ $# -eq 0 ]; then
    exclusiveChecked=true
  else
    # A perl that cannot run (no Fcntl, a broken install) leaves the check undone, never "not busy".
    exclusive=$(perl -e 'use Fcntl; for my $d (@ARGV) { if (sysopen(my $f, $d, O_RDONLY | O_EXCL | O_NONBLOCK)) { close $f; print "$d ok\n" } else { printf "%s %d %s\n", $d, $! + 0, $! } }' "$@" 2>/dev/null) && exclusiveChecked=true
  fi
fi
remnantScan=false
have blkid && have dd && have od && remnantScan=true

printf '{"apiVersion":"pv-doctor/v1","kind":"ProbeReport","probeVersion":2'
printf ',"node":%s' "$(js "$node")"
printf ',"time":%s' "$(js "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
printf ',"kernel":%s' "$(js "$(uname -r)")"
printf ',"udev":%s,"mountTableReadable":%s' "$udev" "$mountsReadable"
printf ',"tools":{"wipefs":%s,"blkid":%s,"lsblk":%s,"perl":%s}' \
  "$(have wipefs && echo true || echo false)" "$(have blkid && echo true || echo false)" "$(have lsblk && echo true || echo false)" "$(have perl && echo true || echo false)"
printf ',"checks":{"remnants":%s,"exclusiveOpen":%s}' "$remnantScan" "$exclusiveChecked"
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

  # Held exclusively? (whole devices only: a held partition makes its disk's O_EXCL open fail too)
  busy=null
  if [ "$exclusiveChecked" = true ] && [ "$kind" != part ] && [ "$size" -gt 0 ]; then
    ex=$(printf '%s\n' "$exclusive" | awk -v p="$path" '$1 == p { $1 = ""; sub(/^ /, ""); print; exit }')
    case $ex in
      ok) busy=false ;;
      '16 '*) busy=true ;;
      '') [ -n "$perr" ] || perr='exclusive open not tried (the device appeared during the probe); probe again' ;;
      *) [ -n "$perr" ] || perr="exclusive open: ${ex#* }" ;;
    esac
  fi

  # Remnants, on a whole disk that shows nothing but (at most) a partition table and has no
  # kernel partitions: signatures at the usual partition starts (sector 63, 34, 40, 2048) and
  # wherever a left-over table says one started. A disk with a filesystem or any other signature
  # is refused already; what lies deeper in it is that signature's own data.
  remn='' bpt=''
  if [ "$remnantScan" = true ] && [ -z "$perr" ] && [ "$size" -gt 0 ] && [ "$kind" != part ] && [ -z "$partitions" ] && only_tables "$sigs"; then
    lbs=$(attr "$sysdev/queue/logical_block_size")
    tab=$(table_remnants "$path" "$size" "${lbs:-512}")
    if printf '%s\n' "$tab" | grep -qx short; then
      perr='cannot read the partition table areas'
    else
      printf '%s\n' "$tab" | grep -qx primary || bpt=$(printf '%s\n' "$tab" | awk '$1 == "backup" { print $2, $3; exit }')
      for off in $({ printf '%s\n' 32256 17408 20480 1048576; printf '%s\n' "$tab" | awk '$1 == "start" { print $2 }'; } | sort -un); do
        [ "$off" -lt "$size" ] || continue
        out=$(blkid -p -O "$off" -o export "$path" 2>&1)
        case $? in
          0) remn="$remn$(printf '%s\n' "$out" | sed -n "s/^TYPE=\\(.*\\)/\\1 $off/p; s/^PTTYPE=\\(.*\\)/\\1 $off/p")
" ;;
          2) ;;
          8) remn="${remn}ambivalent $off
" ;;
          *) perr="remnant scan at offset $off: $(printf '%s\n' "$out" | sed -n '1{s/^blkid: //;p;}')"; remn=''; bpt=''; break ;;
        esac
      done
    fi
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
  printf '],"busy":%s,"remnants":[' "$busy"
  s1=1
  printf '%s\n' "$remn" | while read -r t off; do
    [ -n "$t" ] || continue
    [ $s1 = 1 ] || printf ','
    s1=0
    printf '{"type":%s,"offset":%s}' "$(js "$t")" "$(js "$off")"
  done
  printf '],"backupPartitionTable":'
  if [ -n "$bpt" ]; then
    printf '{"offset":%s,"partitions":%s}' "$(js "${bpt% *}")" "${bpt#* }"
  else
    printf 'null'
  fi
  printf ',"probeError":%s' "$(jsn "$perr")"
  case $kind in
    loop) printf ',"backingFile":%s' "$(jsn "$(attr "$sysdev/loop/backing_file")")" ;;
    mpath | lvm | crypt | dm) printf ',"dmName":%s,"dmUuid":%s' "$(jsn "$(attr "$sysdev/dm/name")")" "$(jsn "$(attr "$sysdev/dm/uuid")")" ;;
  esac
  printf '}'
done
printf ']}\n'
