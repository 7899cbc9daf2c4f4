/**
 * The one error type of Palier: a stable code for logs and tests, an internal message,
 * and the French sentence a user may see.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly userMessage: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = () =>
  new AppError(
    'not_found',
    'resource not found or not visible',
    'Cette page n’existe pas ou n’est plus disponible.',
    404,
  );
