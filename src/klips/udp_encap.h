/* ESP in UDP (RFC 3948) on the IKE daemon's NAT-T socket: the kernel
 * decapsulates ESP arriving on it and hands IKE (behind the non-ESP
 * marker) to us. A socket option of the kernel's IPsec, so it lives with
 * the other kernel glue, not with the sockets that use it. */
#pragma once

/* Sets UDP_ENCAP_ESPINUDP on fd: 0, or -errno (a kernel without it). */
int kernel_udp_encap_socket(int fd);
