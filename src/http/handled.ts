// Express 4 does not catch the promise an async handler returns (Express 5 does): a rejection would
// bypass the error handler and its answer and reach the process as an unhandled rejection. Every
// async handler goes through this, so a rejection is handed to `next` like a thrown error.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export function handled(fn: (req: Request, res: Response, next: NextFunction) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}
