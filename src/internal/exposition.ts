import { type OpenMetricsContentType, Registry } from "prom-client"

/**
 * Whether an `Accept` header asks for OpenMetrics over the text format: it
 * names `application/openmetrics-text` with a quality above 0 and at least
 * that of `text/plain` (or `text/*`, `*\/*`). Prometheus sends OpenMetrics at
 * q=1 and text at q=0.5; curl's `*\/*` gets text.
 *
 * @internal
 */
export const prefersOpenMetrics = (accept: string | undefined): boolean => {
  if (accept === undefined) return false
  let openMetrics = 0
  let text = 0
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase())
    const q = params.find((param) => param.startsWith("q="))
    const quality = q === undefined ? 1 : Number(q.slice(2)) || 0
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, quality)
    else if (type === "text/plain" || type === "text/*" || type === "*/*") text = Math.max(text, quality)
  }
  return openMetrics > 0 && openMetrics >= text
}

/** An exposition of a registry: its body and content type. @internal */
export interface Exposition {
  readonly contentType: string
  readonly body: string
}

/** Renders a registry in the text format, or OpenMetrics through a view sharing its metrics. @internal */
export const expose = async (registry: Registry, openMetrics: boolean): Promise<Exposition> => {
  if (!openMetrics) return { contentType: registry.contentType, body: await registry.metrics() }
  // `merge` makes a registry of the same metrics; prom-client types it as text-only.
  const view = Registry.merge([registry]) as unknown as Registry<OpenMetricsContentType>
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
  return { contentType: view.contentType, body: await view.metrics() }
}
