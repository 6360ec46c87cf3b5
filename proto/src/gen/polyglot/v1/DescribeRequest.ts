// Original file: proto/polyglot/v1/worker.proto


/**
 * Empty; reserved for future options.
 */
export interface DescribeRequest {
}

/**
 * Empty; reserved for future options.
 */
export interface DescribeRequest__Output {
}
