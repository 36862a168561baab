/* gstcodecprepmeta.h: read-only C view of codecprep's bit-cost GstMeta.
 *
 * The meta is registered by the codecprep GStreamer plugin (libgstcodecprep.so, element
 * bitcostdec) under the API name "CodecPrepBitcostMetaAPI", tags "video" and "size". This
 * header is the only thing C code needs: it declares the struct and finds the API type by
 * name at run time, so nothing links the plugin and no second copy of the meta is registered.
 * A layout test in the plugin crate (plugins/tests/meta_c_layout.rs) checks this struct against
 * the Rust definition.
 *
 * The maps (cells, sub) belong to the meta and are shared between copies of a buffer; treat
 * them as read-only and valid while you hold a reference to the buffer. Layout and meaning of
 * the values: docs/bitcost-map.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_CODECPREP_META_H
#define GST_CODECPREP_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_CODECPREP_BITCOST_META_API_NAME "CodecPrepBitcostMetaAPI"
/* Value of the version field for this layout; later layouts only append fields. */
#define GST_CODECPREP_BITCOST_META_VERSION 1

/* Bits of the flags field. */
#define GST_CODECPREP_BITCOST_FLAG_INTERLACED (1u << 0)
#define GST_CODECPREP_BITCOST_FLAG_DAMAGED (1u << 1)

typedef struct {
  GstMeta meta;
  guint32 version;      /* GST_CODECPREP_BITCOST_META_VERSION */
  guint32 codec;        /* 1 = H.264, 2 = HEVC, 3 = VP9 */
  const gchar *grid_kind; /* "mb", "ctu" or "sb" (static string) */
  guint32 measure;      /* 0 = reference, 1 = exact */
  guint32 block_size;   /* pixels per block side: 16, the HEVC CTB size, or 64 */
  guint32 width;        /* picture size in pixels */
  guint32 height;
  guint32 rows;         /* block grid */
  guint32 cols;
  guint32 sub_rows;     /* 4x4-pixel sub-grid */
  guint32 sub_cols;
  guint32 flags;        /* GST_CODECPREP_BITCOST_FLAG_* */
  guint32 data_bits;    /* entropy-coded bits of the picture (0 if unknown) */
  guint32 segments;     /* slices, WPP rows or tiles */
  guint32 reserved;     /* zero */
  guint64 frame_index;  /* display index: frames output before this one since start/seek */
  const gint32 *cells;  /* rows * cols block costs in bits, row-major */
  const gfloat *sub;    /* sub_rows * sub_cols sub-grid costs in bits, row-major */
  gpointer priv_map;    /* owned by the plugin: do not touch */
} GstCodecPrepBitcostMeta;

/* The meta's API type, or 0 while the plugin is not loaded (load it first, e.g. by creating a
 * bitcostdec element or with gst_registry_find_plugin + gst_plugin_load). */
static inline GType
gst_codecprep_bitcost_meta_api_get_type (void)
{
  return g_type_from_name (GST_CODECPREP_BITCOST_META_API_NAME);
}

/* The buffer's bit-cost meta, or NULL (also when the plugin is not loaded or is newer in an
 * incompatible way). */
static inline const GstCodecPrepBitcostMeta *
gst_buffer_get_codecprep_bitcost_meta (GstBuffer * buffer)
{
  GType api = gst_codecprep_bitcost_meta_api_get_type ();
  const GstCodecPrepBitcostMeta *meta;
  if (api == 0)
    return NULL;
  meta = (const GstCodecPrepBitcostMeta *) gst_buffer_get_meta (buffer, api);
  if (meta == NULL || meta->version < GST_CODECPREP_BITCOST_META_VERSION)
    return NULL;
  return meta;
}

/* Block cost at (row, col); no bounds check. */
static inline gint32
gst_codecprep_bitcost_meta_cell (const GstCodecPrepBitcostMeta * meta, guint row, guint col)
{
  return meta->cells[(gsize) row * meta->cols + col];
}

/* Sub-grid cost at (row, col); no bounds check. */
static inline gfloat
gst_codecprep_bitcost_meta_sub (const GstCodecPrepBitcostMeta * meta, guint row, guint col)
{
  return meta->sub[(gsize) row * meta->sub_cols + col];
}

G_END_DECLS

#endif /* GST_CODECPREP_META_H */
