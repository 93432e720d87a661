import protobuf from 'protobufjs';

/**
 * OTLP/HTTP in protobuf (`application/x-protobuf`, what the Collector's otlphttp exporter sends
 * by default): the messages of opentelemetry-proto's logs service that Lethe reads, with their
 * field numbers. Fields not named here (bodies, severities, trace ids) are skipped by the decoder,
 * so they are never even materialised. Decoded with protobufjs to the same camelCase shape as
 * OTLP/JSON, which `usageEventsOfLogs` reads.
 */
const PROTO = `
syntax = "proto3";
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeLogs { repeated LogRecord log_records = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  repeated KeyValue attributes = 6;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
`;

const root = protobuf.parse(PROTO).root;
const Request = root.lookupType('ExportLogsServiceRequest');
const Response = root.lookupType('ExportLogsServiceResponse');

/** The request as a plain object (64-bit integers as decimal strings); throws on a malformed body. */
export function decodeLogsRequest(body: Uint8Array): unknown {
  return Request.toObject(Request.decode(body), { longs: String, defaults: false });
}

export interface LogsResponse {
  partialSuccess?: { rejectedLogRecords?: number; errorMessage?: string };
}

export function encodeLogsResponse(response: LogsResponse): Uint8Array {
  return Response.encode(Response.fromObject(response)).finish();
}
