/*
 * rpc.h - the devnet's Lotus JSON-RPC API: POST /rpc/v0 and /rpc/v1 on
 * the main HTTP server, as Lotus serves them through go-jsonrpc.
 *
 * Methods are "Filecoin.<Name>" (Lotus) and "Devnet.<Name>" (admin
 * methods of the simulator: faucet, DataCap, faults, price).  Each has a
 * permission (read < write < sign < admin); a request without a token
 * gets read, a bad token gets HTTP 401 with an empty body.
 */
#ifndef EFS_DEVNET_RPC_H
#define EFS_DEVNET_RPC_H

#include "contrib/devnet/devnet.h"
#include "net/http.h"

/* Serve one request to /rpc/v<version> (0 or 1), whatever its method. */
void rpc_serve(struct devnet *d, struct http_req *req, int version);

/* Serve GET /price and /api/v3/simple/price: the FIL/USD rate. */
void rpc_serve_price(struct devnet *d, struct http_req *req);

#endif
