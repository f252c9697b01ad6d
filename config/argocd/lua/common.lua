-- Shared by every kind: helpers, then the checks made first for all (evaluated, observed, valid).

local function verdict(health, message)
  return { status = health, message = message }
end

local function condition(status, kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function text(c)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return c.reason or ""
end

-- The one use of the string library: argocd-cm must set useOpenLibs for the kind (see the header).
local function num(x, format)
  if x == nil then
    return "n/a"
  end
  return string.format(format or "%.2f", x)
end

local status = obj.status
if status == nil or next(status) == nil then
  return verdict("Progressing", "waiting for the operator to evaluate")
end

local generation = obj.metadata.generation
if status.observedGeneration == nil or (generation ~= nil and status.observedGeneration < generation) then
  return verdict("Progressing", "waiting for the operator to observe generation " .. tostring(generation))
end

local valid = condition(status, "Valid")
if valid ~= nil and valid.status == "False" then
  return verdict("Degraded", text(valid))
end

-- The checks below return a verdict or nil; each kind chains them with `or`, first match wins.

local function rules_not_synced()
  local rules = condition(status, "RulesSynced")
  if rules ~= nil and rules.status == "False" then
    return verdict("Degraded", "rules not synced: " .. text(rules))
  end
  return nil
end

local metrics = condition(status, "MetricsAvailable")
local stale = metrics ~= nil and metrics.status == "False"

local function waiting_for_metrics(measured)
  if stale and not measured then
    return verdict("Progressing", "waiting for metrics: " .. text(metrics))
  end
  return nil
end

local function healthy(message)
  if stale then
    message = message .. "; metrics unavailable, showing the last values: " .. text(metrics)
  end
  return verdict("Healthy", message)
end
