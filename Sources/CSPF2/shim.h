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

// SPF_request_query_mailfrom without libspf2's "localhost" exemption: the library answers PASS for any
// client in 127.0.0.0/8 or ::1 before reading the record, which would let every sender behind a local proxy
// pass. This is the library's own sequence (spf_request.c) minus that shortcut: every client is evaluated.
static inline SPF_errcode_t sluice_spf_query_mailfrom(SPF_request_t *request, SPF_response_t **responsep) {
    SPF_record_t *record = NULL;
    SPF_errcode_t err;
    *responsep = SPF_response_new(request);
    if (*responsep == NULL) return SPF_E_NO_MEMORY;
    request->cur_dom = request->use_helo ? request->helo_dom : request->env_from_dp;
    err = SPF_server_get_record(request->spf_server, request, *responsep, &record);
    if (err != SPF_E_SUCCESS) {
        if (record) SPF_record_free(record);
        SPF_i_done(*responsep, (*responsep)->result, (*responsep)->reason, (*responsep)->err);
        return err;
    }
    (*responsep)->spf_record_exp = record;
    err = SPF_record_interpret(record, request, *responsep, 0);
    SPF_record_free(record);
    (*responsep)->spf_record_exp = NULL;
    return err;
}
