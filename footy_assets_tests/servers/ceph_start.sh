#!/bin/bash
# Single-node Ceph for the S3 tests: MON_PORT and RGW_PORT choose the ports.
# Single-node Ceph (mon + memstore OSD + RGW) on 127.0.0.1, no systemd, no cephx.
set -euo pipefail
D=${CEPH_DIR:?set CEPH_DIR to an empty folder}
rm -rf "$D"; mkdir -p $D/{mon,osd,run,log,rgw}
FSID=$(uuidgen)
cat > $D/ceph.conf <<CONF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:${MON_PORT:-3300}
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
run_dir = $D/run
admin_socket = $D/run/\$name.asok
log_file = $D/log/\$name.log
pid_file = $D/run/\$name.pid
ms_bind_ipv6 = false
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_mon_client_mode = crc secure
ms_client_mode = crc secure
[mon]
mon_data = $D/mon/\$cluster-\$id
[osd]
osd_data = $D/osd/\$cluster-\$id
osd_objectstore = ${OSD_STORE:-memstore}
memstore_device_bytes = 4294967296
bluestore_block_path = $D/osd/block
bluestore_block_create = true
bluestore_block_size = 10737418240
bluestore_cache_size = 268435456
osd_memory_target = 1073741824
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:${RGW_PORT:-7480}
rgw_data = $D/rgw
rgw_dns_name = localhost
CONF
export CEPH_CONF=$D/ceph.conf
monmaptool --create --fsid $FSID --addv a "[v2:127.0.0.1:${MON_PORT:-3300}]" $D/monmap >/dev/null
ceph-authtool --create-keyring $D/keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-mon --mkfs -i a --monmap $D/monmap --keyring $D/keyring
nohup ceph-mon -f -i a > $D/log/mon.out 2>&1 & echo $! > $D/mon.pid
for i in $(seq 60); do ceph -s >/dev/null 2>&1 && break; sleep 0.5; done
OSD_UUID=$(uuidgen)
OSD_ID=$(ceph osd new $OSD_UUID)
mkdir -p $D/osd/ceph-$OSD_ID; ceph-osd -i $OSD_ID --mkfs --osd-uuid $OSD_UUID >/dev/null 2>&1
nohup ceph-osd -f -i $OSD_ID > $D/log/osd.out 2>&1 & echo $! > $D/osd.pid
for i in $(seq 120); do ceph osd stat 2>/dev/null | grep -q "1 up" && break; sleep 0.5; done
nohup radosgw -f -n client.rgw.a > $D/log/rgw.out 2>&1 & echo $! > $D/rgw.pid
for i in $(seq 120); do curl -s -o /dev/null http://127.0.0.1:${RGW_PORT:-7480}/ && break; sleep 0.5; done
radosgw-admin user create --uid=test --display-name=test --access-key=testkey --secret=testsecret >/dev/null
echo "RGW up at http://127.0.0.1:${RGW_PORT:-7480} (access=testkey secret=testsecret)"
