/*
 * Downloads over http(s) with libcurl, for the tarball source
 * (source-tarball.c): the body is handed to the caller as it arrives,
 * never stored, so an archive streams straight into libarchive.
 */
#include "config.h"

#include <curl/curl.h>

#include "source-backend.h"
#include "xalloc.h"

char *
source_fetch_version_text(void)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	return xasprintf("libcurl %s (%shttps)\n", info->version,
	    info->features & CURL_VERSION_SSL ? "" : "no ");
}
