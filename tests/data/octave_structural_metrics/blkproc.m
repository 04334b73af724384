function out = blkproc(X, blk, border, fun)
  % blkproc(X,[m n],[0 0],fun) only: zero-pad bottom/right to a multiple of the block, one scalar per block.
  m = blk(1); n = blk(2);
  R = ceil(size(X,1)/m); C = ceil(size(X,2)/n);
  P = zeros(R*m, C*n, class(X)); P(1:size(X,1), 1:size(X,2)) = X;
  out = zeros(R, C);
  for i = 1:R
    for j = 1:C
      out(i,j) = fun(P((i-1)*m+1:i*m, (j-1)*n+1:j*n));
    end
  end
end
