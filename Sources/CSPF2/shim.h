// libspf2 (Debian: libspf2-dev), the SPF (RFC 7208) library. Its headers expect
// the system network headers first and HAVE_NS_TYPE for ns_type from arpa/nameser.h.
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#define HAVE_NS_TYPE 1
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

// The union members of SPF_dns_rr_data_t, reachable from Swift.
static inline char *sluice_spf_rr_text(SPF_dns_rr_t *rr, int i) { return rr->rr[i]->txt; }
static inline struct in_addr *sluice_spf_rr_a(SPF_dns_rr_t *rr, int i) { return &rr->rr[i]->a; }
static inline struct in6_addr *sluice_spf_rr_aaaa(SPF_dns_rr_t *rr, int i) { return &rr->rr[i]->aaaa; }
